//! books: voucher books for print. A5 pages of an 8-slot grid holding vouchers (issued once
//! against their offers' caps, printed with a QR, code and PIN that redeem at the counter),
//! ads, images and sponsored blocks; a job renders the print-ready PDF (vector QR codes,
//! embedded fonts that shape Khmer, optional bleed and crop marks), the same file for the same
//! book, and admins are told.

pub mod api;
pub mod domain;
mod events;
mod http;
pub mod render;
mod service;
mod store;

use std::sync::Arc;

use async_trait::async_trait;
use platform::bus::BoxError;
use platform::jobs::{JobHandler, JobRun, JobSpec};
use platform::migrate::Migration;
use platform::{Context, Module, ModuleParts};

pub use service::{Books, BooksError, GenerateJob};

static MIGRATIONS: [Migration; 1] = [platform::migration!(1, "0001_books.sql")];

pub fn module() -> Module {
    Module::new("books", &MIGRATIONS, build)
        .publishes(books_contract::events)
        .answers(kernel::call::codes::<books_contract::BooksCode>)
}

fn build(ctx: &Context) -> ModuleParts {
    let books = Books::new(ctx.clone());
    ModuleParts {
        routes: http::router(books.clone()),
        subscriptions: events::subscriptions(),
        jobs: vec![JobSpec {
            name: service::GENERATE_JOB,
            schedule: None,
            max_attempts: service::GENERATE_ATTEMPTS,
            handler: Arc::new(Generate(books)),
        }],
        ..ModuleParts::default()
    }
}

/// Renders one book (retried with backoff).
struct Generate(Arc<Books>);

#[async_trait]
impl JobHandler for Generate {
    async fn run(&self, job: &JobRun) -> Result<(), BoxError> {
        let generate: GenerateJob = serde_json::from_value(job.payload.clone())?;
        let last_attempt = job.attempt >= service::GENERATE_ATTEMPTS;
        self.0.run_generation(&generate, last_attempt).await?;
        Ok(())
    }
}
