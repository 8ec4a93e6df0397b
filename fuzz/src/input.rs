//! Reading a fuzz input as a few choices (a byte, a number) followed by the bytes under test,
//! so that one flat byte string steers both the configuration and the data.

/// A cursor over a fuzz input. Reads past the end give zeros and empty slices: every input
/// is valid.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// What is left.
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    /// The next byte, or 0.
    pub fn byte(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&first, rest)) => {
                self.rest = rest;
                first
            }
            None => 0,
        }
    }

    /// The next two bytes as a little-endian number, or what is left of them.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.byte()) | (u16::from(self.byte()) << 8)
    }

    /// The next `length` bytes (fewer at the end).
    pub fn take(&mut self, length: usize) -> &'a [u8] {
        let (taken, rest) = self.rest.split_at(length.min(self.rest.len()));
        self.rest = rest;
        taken
    }

    /// The bytes up to the next `separator` (which is skipped), or all that is left.
    pub fn until(&mut self, separator: u8) -> &'a [u8] {
        match self.rest.iter().position(|&byte| byte == separator) {
            Some(at) => {
                let taken = &self.rest[..at];
                self.rest = &self.rest[at + 1..];
                taken
            }
            None => std::mem::take(&mut self.rest),
        }
    }

    /// [`until`](Self::until), as text (invalid UTF-8 replaced).
    pub fn text_until(&mut self, separator: u8) -> String {
        String::from_utf8_lossy(self.until(separator)).into_owned()
    }

    /// Everything left.
    pub fn rest(self) -> &'a [u8] {
        self.rest
    }
}
