//! Go clients send `null` for empty maps and slices; read `null` as the empty value.

use serde::{Deserialize, Deserializer};

/// Deserialize `T`, taking `null` as `T::default()`.
pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
