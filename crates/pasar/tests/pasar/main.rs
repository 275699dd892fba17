//! The integration tests of pasar, in one binary: each module is one story or concern.

mod cli;
mod split;
