//! A browser's memory without a browser: cookies kept between requests, redirects not
//! followed (the tests read them), and the form token of the last page.

use std::collections::HashMap;

use reqwest::header::{HeaderMap, COOKIE, SET_COOKIE};
use testkit::TestApp;

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Every `Set-Cookie` line whose cookie is named `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The form token the page's forms carry.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
        Some(self.body[at..].split('"').next()?.to_owned())
    }
}

pub struct Visitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
    pub csrf: Option<String>,
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            cookies: HashMap::new(),
            csrf: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for line in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = line.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || line.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = response.text().await.expect("a page body");
        let page = Page {
            status,
            headers,
            body,
        };
        if let Some(token) = page.csrf() {
            self.csrf = Some(token);
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET answered");
        self.keep(response).await
    }

    /// Posts `fields` with the page's form token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &token));
        self.post_raw(path, &all, &[]).await
    }

    /// Posts exactly `fields` (no token added), with extra headers.
    pub async fn post_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("POST answered");
        self.keep(response).await
    }

    /// Signs in through the sign-in page; returns the redirect.
    pub async fn sign_in(&mut self, email: &str, next: &str) -> Page {
        let page = self.get(&format!("/login?next={next}")).await;
        assert_eq!(page.status, 200, "the sign-in page");
        let page = self
            .post(
                "/login",
                &[
                    ("email", email),
                    ("password", testkit::PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(
            page.status, 303,
            "sign-in answered {}: {}",
            page.status, page.body
        );
        // As a browser would: the page signed in to, with the form token sign-in renewed.
        let landed = self.get(page.location()).await;
        assert!(
            landed.status < 400,
            "{} after sign-in: {}",
            page.location(),
            landed.status
        );
        page
    }
}
