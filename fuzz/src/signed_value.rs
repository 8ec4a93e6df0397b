//! Signed values (Tornado's `create_signed_value` / `decode_signed_value`, versions 1 and 2),
//! as signed cookies carry them: arbitrary text never verifies by accident, what we sign
//! verifies, and any change to it does not.

use std::time::{Duration, UNIX_EPOCH};

use cyclone_web::CookieSecret;
use cyclone_web::signed::{SignedValueVersion, create_signed_value, decode_signed_value_with};

use super::input::Input;

/// Reads the input as a name, a value to sign and a signed value from a client.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let choice = input.byte();
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let secret = if choice & 1 == 0 {
        CookieSecret::new("fuzz secret")
    } else {
        CookieSecret::versioned([(0, "old secret"), (3, "new secret")])
    };
    let key_version = (choice & 1 == 1).then_some(3);
    let name = input.text_until(0);
    let value = input.until(0).to_vec();
    let mutation = (input.u16(), input.byte());
    let client = String::from_utf8_lossy(input.rest()).into_owned();

    for min_version in [SignedValueVersion::V1, SignedValueVersion::V2] {
        // Text from a client verifies only if it is a signature under our secret: the fuzzer
        // cannot forge one (one in 2^256), so anything that verifies is a bug.
        let forged = decode_signed_value_with(&secret, &name, &client, 31.0, now, min_version);
        assert_eq!(forged, None, "{client:?} verified without our secret");
    }

    let signed = create_signed_value(&secret, key_version, &name, &value, now)
        .unwrap_or_else(|error| panic!("signing failed: {error}"));
    let decoded =
        decode_signed_value_with(&secret, &name, &signed, 31.0, now, SignedValueVersion::V2);
    if name.contains('\n') {
        // Tornado's version regex (`^([1-9][0-9]*)\|(.*)$`) does not match across a newline,
        // so neither Tornado nor cyclone reads such a value as version 2. (Cookie names never
        // hold one: `set_cookie` refuses them.)
        assert_eq!(decoded, None);
        return;
    }
    assert_eq!(
        decoded.as_deref(),
        Some(&value[..]),
        "our own value did not verify"
    );
    let later = now + Duration::from_secs(32 * 86_400);
    assert_eq!(
        decode_signed_value_with(&secret, &name, &signed, 31.0, later, SignedValueVersion::V2),
        None,
        "an expired value verified"
    );

    // One changed byte (at a position the input chooses) must not verify.
    let mut changed = signed.clone().into_bytes();
    let at = usize::from(mutation.0) % changed.len();
    let replacement = if mutation.1 == changed[at] {
        mutation.1 ^ 1
    } else {
        mutation.1
    };
    changed[at] = replacement;
    if let Ok(changed) = String::from_utf8(changed) {
        assert_eq!(
            decode_signed_value_with(&secret, &name, &changed, 31.0, now, SignedValueVersion::V1),
            None,
            "{changed:?} (changed from {signed:?}) still verified"
        );
    }
}
