//! Lists that Go sends as `null` when they are empty (nil slices without `omitempty`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Serialise an empty list as `null`.
pub fn serialize<S: Serializer, T: Serialize>(list: &[T], s: S) -> Result<S::Ok, S::Error> {
    if list.is_empty() {
        s.serialize_none()
    } else {
        list.serialize(s)
    }
}

/// Accept `null` as an empty list.
pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}
