//! The password policy checker on any text and any policy: it never panics, and what it
//! accepts really meets the policy's lengths (counted after NFKC, as the service stores it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use poortwachter_domain::password::{CharacterClasses, Password, PasswordPolicy};

fuzz_target!(|data: &[u8]| {
    let [min, max, classes, rest @ ..] = data else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(policy) = PasswordPolicy::new(
        u16::from(*min),
        u16::from(*max) + 64,
        CharacterClasses {
            lowercase: classes & 1 != 0,
            uppercase: classes & 2 != 0,
            digit: classes & 4 != 0,
            symbol: classes & 8 != 0,
        },
    ) else {
        return;
    };
    let Ok(password) = Password::parse(text) else {
        return;
    };
    let (personal, _) = text.split_at(text.floor_char_boundary(text.len() / 3));
    if policy.broken_by(&password, &[personal, "jan"]).is_empty() {
        let length = password.expose().chars().count();
        assert!(length >= usize::from(policy.min_length()), "too short accepted");
        assert!(length <= usize::from(policy.max_length()), "too long accepted");
    }
});
