//! [`Verb`]: which of the seven handler methods a request's method names, found once.

use http::Method;

/// The request method as one of the seven a [`RequestHandler`](crate::RequestHandler) has a
/// method for, or `Other`: found once per request, then compared as a byte where a
/// [`Method`] is cloned, compared and dropped as an enum that may own its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Head,
    Post,
    Delete,
    Patch,
    Put,
    Options,
    /// Any other method (a handler refuses it with 405).
    Other,
}

impl Verb {
    /// The verb of `method`.
    #[inline]
    pub(crate) fn of(method: &Method) -> Verb {
        match *method {
            Method::GET => Verb::Get,
            Method::HEAD => Verb::Head,
            Method::POST => Verb::Post,
            Method::DELETE => Verb::Delete,
            Method::PATCH => Verb::Patch,
            Method::PUT => Verb::Put,
            Method::OPTIONS => Verb::Options,
            _ => Verb::Other,
        }
    }

    /// Its bit among the seven (GET is 1, HEAD 2, ... OPTIONS 64); 0 for `Other`.
    #[inline]
    pub(crate) fn bit(self) -> u8 {
        match self {
            Verb::Other => 0,
            verb => 1 << (verb as u8),
        }
    }

    /// Whether a method with this verb may change state: Tornado's XSRF and cross-origin
    /// checks apply to all but GET, HEAD and OPTIONS.
    #[inline]
    pub(crate) fn is_unsafe(self) -> bool {
        !matches!(self, Verb::Get | Verb::Head | Verb::Options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_of_the_seven_has_its_own_bit_and_others_none() {
        // Tornado's seven, in the order the bits count them.
        let bits: Vec<u8> = crate::handler::DEFAULT_SUPPORTED_METHODS
            .iter()
            .map(|m| Verb::of(m).bit())
            .collect();
        assert_eq!(bits, [1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(Verb::of(&Method::TRACE), Verb::Other);
        assert_eq!(Verb::of(&Method::from_bytes(b"PROPFIND").unwrap()).bit(), 0);
        assert!(Verb::of(&Method::POST).is_unsafe());
        assert!(Verb::of(&Method::TRACE).is_unsafe());
        assert!(!Verb::of(&Method::OPTIONS).is_unsafe());
    }
}
