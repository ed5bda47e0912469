//! Password hashing for `core.trust_password`: hex(salt ‖ scrypt(password, salt)) with
//! LXD's parameters (N=16384, r=8, p=1, 64-byte key, 32-byte salt).

use rand::RngCore;

const SALT_LEN: usize = 32;
const KEY_LEN: usize = 64;

fn derive(password: &str, salt: &[u8]) -> Option<[u8; KEY_LEN]> {
    let params = scrypt::Params::new(14, 8, 1, KEY_LEN).ok()?;
    let mut out = [0u8; KEY_LEN];
    scrypt::scrypt(password.as_bytes(), salt, &params, &mut out).ok()?;
    Some(out)
}

/// Hash a password for storage.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    let key = derive(password, &salt).unwrap_or([0u8; KEY_LEN]);
    let mut stored = salt.to_vec();
    stored.extend_from_slice(&key);
    hex::encode(stored)
}

/// Whether `password` matches a stored hash.
pub fn verify_password(stored: &str, password: &str) -> bool {
    let Ok(bytes) = hex::decode(stored) else {
        return false;
    };
    if bytes.len() != SALT_LEN + KEY_LEN {
        return false;
    }
    let (salt, key) = bytes.split_at(SALT_LEN);
    derive(password, salt)
        .is_some_and(|k| k.iter().zip(key).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_password_verifies_only_the_right_password() {
        let h = hash_password("sekret");
        assert_eq!(h.len(), 2 * (SALT_LEN + KEY_LEN));
        assert!(verify_password(&h, "sekret"));
        assert!(!verify_password(&h, "wrong"));
        assert_ne!(h, hash_password("sekret"), "salt must differ");
    }
}
