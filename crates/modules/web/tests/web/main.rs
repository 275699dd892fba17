//! The portals' integration tests, in one binary: the security rules of every page (form
//! tokens, cookies, the content policy, who may open what) over HTTP, and the whole voucher
//! path in headless Chromium.

mod browser;
mod pages;
mod support;
