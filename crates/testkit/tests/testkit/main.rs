//! The integration tests of testkit, in one binary: each module is one story or concern.

mod bus;
mod edge;
mod jobs;
mod nats_bus;
mod openapi;
mod shutdown;
mod text_inputs;
mod typescript_client;
