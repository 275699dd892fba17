//! media's public face.

mod errors;
pub use errors::MediaCode;

pub fn events() -> Vec<kernel::EventSpec> {
    vec![]
}
