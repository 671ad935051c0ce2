//! Input and output: discovery, decoding, encoding and writing.

pub mod decode;
pub mod discover;
pub mod encode;
pub mod write;
