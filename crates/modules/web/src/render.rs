//! Pages from templates (`templates/`, minijinja, escaped; a field the API left out reads as empty), the
//! filters they share (money, dates, localized text) and the answers a handler returns.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::Value as JinjaValue;
use minijinja::{context, Environment, State, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value;

use crate::error::WebError;
use crate::i18n::{self, Locale};
use crate::session::{Flash, Visitor};

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        /// Every template, by name, compiled into the binary.
        pub const TEMPLATES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../templates/", $name)))),*
        ];
    };
}

templates!(
    "base.html",
    "macros.html",
    "error.html",
    "list.html",
    "auth/login.html",
    "auth/register.html",
    "customer/home.html",
    "customer/products.html",
    "customer/product.html",
    "customer/offers.html",
    "customer/offer.html",
    "customer/cart.html",
    "customer/checkout.html",
    "customer/payment.html",
    "customer/payment_status.html",
    "customer/order.html",
    "customer/wallet.html",
    "customer/voucher.html",
    "customer/voucher_qr.html",
    "customer/account.html",
    "merchant/apply.html",
    "merchant/dashboard.html",
    "merchant/product_form.html",
    "merchant/voucher_form.html",
    "merchant/counter.html",
    "merchant/redemption.html",
    "merchant/team.html",
    "merchant/outlets.html",
    "merchant/money.html",
    "admin/dashboard.html",
    "admin/merchant.html",
    "admin/payouts.html",
);

#[cfg(test)]
/// Rust files that name locale keys (`t("...")`), for the test that every key exists.
pub const CODE_WITH_KEYS: &[(&str, &str)] = &[
    ("admin/lists.rs", include_str!("admin/lists.rs")),
    ("admin/merchants.rs", include_str!("admin/merchants.rs")),
    ("admin/operations.rs", include_str!("admin/operations.rs")),
    ("merchant/mod.rs", include_str!("merchant/mod.rs")),
    ("merchant/catalog.rs", include_str!("merchant/catalog.rs")),
    ("merchant/vouchers.rs", include_str!("merchant/vouchers.rs")),
    ("merchant/orders.rs", include_str!("merchant/orders.rs")),
    ("customer/orders.rs", include_str!("customer/orders.rs")),
];

/// A locale key, written so the key test finds it in Rust code too.
pub const fn t(key: &'static str) -> &'static str {
    key
}

/// Which portal a page belongs to: its navigation.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Portal {
    Customer,
    Merchant,
    Admin,
}

pub struct Views {
    env: Environment<'static>,
}

impl Views {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        // The API leaves empty optional fields out of its answers: a missing field reads as
        // empty (and so does a field of it), like a null one.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        env.add_function("t", translate);
        env.add_filter("loc", localized);
        env.add_filter("money", money);
        env.add_filter("when", when);
        env.add_filter("short", short);
        Ok(Self { env })
    }

    /// The page `template` for `visitor`, with `page`'s fields beside the layout's.
    pub fn page(
        &self,
        visitor: &Visitor,
        portal: Portal,
        template: &str,
        page: impl Serialize,
    ) -> Result<Response, WebError> {
        let html = self.draw(visitor, portal, template, page)?;
        Ok(Html(html).into_response())
    }

    /// A fragment (htmx swaps it into a page): no layout.
    pub fn fragment(
        &self,
        visitor: &Visitor,
        template: &str,
        page: impl Serialize,
    ) -> Result<Response, WebError> {
        self.page(visitor, Portal::Customer, template, page)
    }

    fn draw(
        &self,
        visitor: &Visitor,
        portal: Portal,
        template: &str,
        page: impl Serialize,
    ) -> Result<String, WebError> {
        let user = visitor
            .session
            .as_ref()
            .map(|s| context! { email => s.email.clone(), admin => s.admin });
        let ctx = context! {
            lang => visitor.locale.code(),
            languages => Locale::ALL.iter().map(|l| l.code()).collect::<Vec<_>>(),
            csrf => visitor.csrf.clone(),
            path => visitor.path.clone(),
            user => user,
            flash => visitor.flash.clone(),
            portal => portal,
            ..JinjaValue::from_serialize(&page)
        };
        Ok(self.env.get_template(template)?.render(ctx)?)
    }

    /// The page of an error, drawn without a visitor (the layer that draws it has only the
    /// language).
    pub fn error(
        &self,
        locale: Locale,
        title_key: &str,
        detail: &str,
    ) -> Result<Html<String>, minijinja::Error> {
        let ctx = context! {
            lang => locale.code(),
            languages => Locale::ALL.iter().map(|l| l.code()).collect::<Vec<_>>(),
            csrf => "",
            path => "/",
            user => JinjaValue::from(()),
            flash => JinjaValue::from(()),
            portal => Portal::Customer,
            title_key => title_key,
            detail => detail,
        };
        Ok(Html(self.env.get_template("error.html")?.render(ctx)?))
    }
}

fn translate(state: &State, key: &str) -> String {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "en".to_owned());
    i18n::text(&lang, key)
}

/// `{en, km?, id?}` in the page's language, else English; a plain string as it is.
fn localized(state: &State, value: JinjaValue) -> String {
    if let Some(text) = value.as_str() {
        return text.to_owned();
    }
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "en".to_owned());
    let pick = |key: &str| {
        value
            .get_attr(key)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .filter(|s| !s.is_empty())
    };
    pick(&lang).or_else(|| pick("en")).unwrap_or_default()
}

/// Minor units as the currency writes them: `$12.50`, `៛5,000`, `Rp 15.000`.
pub fn format_money(amount: i64, currency: &str) -> String {
    let negative = amount < 0;
    let amount = amount.unsigned_abs();
    let (symbol, decimals, group, point) = match currency {
        "USD" => ("$", 2, ',', '.'),
        "KHR" => ("៛", 0, ',', '.'),
        "IDR" => ("Rp ", 0, '.', ','),
        _ => ("", 2, ',', '.'),
    };
    let scale = 10u64.pow(decimals);
    let whole = (amount / scale).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let fraction = if decimals > 0 {
        format!(
            "{point}{:0width$}",
            amount % scale,
            width = decimals as usize
        )
    } else {
        String::new()
    };
    let sign = if negative { "-" } else { "" };
    let code = if symbol.is_empty() {
        format!(" {currency}")
    } else {
        String::new()
    };
    format!("{sign}{symbol}{grouped}{fraction}{code}")
}

fn money(amount: JinjaValue, currency: Option<JinjaValue>) -> String {
    let amount = i64::try_from(amount).unwrap_or_default();
    let currency = currency
        .and_then(|c| c.as_str().map(str::to_owned))
        .unwrap_or_else(|| "USD".to_owned());
    format_money(amount, &currency)
}

/// An RFC 3339 time as `2026-12-05 01:09` (UTC).
fn when(value: JinjaValue) -> String {
    let text = value.as_str().unwrap_or_default();
    let text: String = text.chars().take(16).collect();
    text.replacen('T', " ", 1)
}

fn short(value: JinjaValue) -> String {
    value.as_str().unwrap_or_default().chars().take(8).collect()
}

/// 303 to `target` (after a form: the browser then GETs it).
pub fn see_other(target: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(target) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// 303 to `target` with a message for the next page.
pub fn done(target: &str, kind: &str, text: impl Into<String>) -> Response {
    let mut response = see_other(target);
    response.extensions_mut().insert(Flash {
        kind: kind.to_owned(),
        text: text.into(),
    });
    response
}

/// After a form: its API call's outcome as a message on `target`.
pub fn outcome(
    target: &str,
    locale: Locale,
    success_key: &str,
    result: Result<Value, WebError>,
) -> Response {
    match result {
        Ok(_) => done(target, "ok", i18n::text(locale.code(), success_key)),
        Err(WebError::Api { status: 401, .. }) => WebError::SignIn.into_response(),
        Err(WebError::Api { code, detail, .. }) => {
            done(target, "error", format!("{detail} ({code})"))
        }
        Err(WebError::BadForm(detail)) => done(target, "error", detail),
        Err(other) => other.into_response(),
    }
}

/// A page-local path to return to: anything else (another site, `//host`) becomes `fallback`.
pub fn local_path<'a>(candidate: Option<&'a str>, fallback: &'a str) -> &'a str {
    match candidate {
        // Browsers drop tabs and newlines from URLs and read `\` as `/`: `/\t/host` and
        // `/\host` would leave the site.
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            path
        }
        _ => fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_per_currency() {
        assert_eq!(format_money(1250, "USD"), "$12.50");
        assert_eq!(format_money(123_456_789, "USD"), "$1,234,567.89");
        assert_eq!(format_money(5000, "KHR"), "៛5,000");
        assert_eq!(format_money(15000, "IDR"), "Rp 15.000");
        assert_eq!(format_money(-5, "USD"), "-$0.05");
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_path(Some("/wallet"), "/"), "/wallet");
        assert_eq!(local_path(Some("//evil.example"), "/"), "/");
        assert_eq!(local_path(Some("https://evil.example"), "/"), "/");
        assert_eq!(local_path(Some("/\\evil.example"), "/"), "/");
        assert_eq!(local_path(Some("/\t/evil.example"), "/"), "/");
        assert_eq!(local_path(Some("/ /evil.example"), "/"), "/");
        assert_eq!(local_path(Some("/\n/evil.example"), "/"), "/");
        assert_eq!(
            local_path(Some("/wallet?status=ACTIVE"), "/"),
            "/wallet?status=ACTIVE"
        );
        assert_eq!(local_path(None, "/admin"), "/admin");
    }

    #[test]
    fn every_template_compiles() {
        Views::new().expect("templates compile");
    }
}
