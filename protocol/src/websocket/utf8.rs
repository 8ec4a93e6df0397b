//! Incremental UTF-8 validation of a text message as its fragments arrive, so a bad byte fails
//! the connection (1007) at the fragment that carries it, not at the end of the message.

/// Tracks how much of a growing text message is known to be valid UTF-8.
#[derive(Debug, Default)]
pub(crate) struct Utf8Validator {
    /// Bytes at the front of the message already checked; what follows may start with the
    /// unfinished part of a character split across fragments.
    checked: usize,
}

impl Utf8Validator {
    /// Checks the bytes of `message` after those already checked. With `complete`, an
    /// unfinished character at the end is an error; without, it waits for the next fragment.
    pub(crate) fn feed(&mut self, message: &[u8], complete: bool) -> Result<(), ()> {
        let rest = message.get(self.checked..).unwrap_or_default();
        match std::str::from_utf8(rest) {
            Ok(_) => {
                self.checked = message.len();
                Ok(())
            }
            Err(error) if error.error_len().is_none() && !complete => {
                self.checked += error.valid_up_to();
                Ok(())
            }
            Err(_) => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_fragments_is_accepted() {
        let text = "κόσμε".as_bytes();
        for cut in 0..=text.len() {
            let mut validator = Utf8Validator::default();
            assert!(validator.feed(&text[..cut], false).is_ok());
            assert!(validator.feed(text, true).is_ok(), "cut at {cut}");
        }
    }

    #[test]
    fn bad_bytes_fail_before_the_message_ends() {
        let mut validator = Utf8Validator::default();
        assert!(validator.feed(b"ok\xce", false).is_ok());
        assert!(validator.feed(b"ok\xce\xff", false).is_err());
        let mut validator = Utf8Validator::default();
        assert!(validator.feed(b"\xce", true).is_err());
    }
}
