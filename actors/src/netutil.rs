//! (Stub: the real module replaces this file.)
