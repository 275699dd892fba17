//! The lists of the portals (applications to review, users, fraud cases, orders to fulfil):
//! columns read from the API's JSON, actions per row posted back through the portal, filters
//! and the next page. One template (`list.html`) draws them all.

use serde::Serialize;
use serde_json::{json, Value};

use crate::i18n::Locale;
use crate::render::format_money;

/// How a column reads its row (JSON pointers into the API's item).
pub enum Cell {
    Text(&'static str),
    /// A `{en, km, id}` text in the page's language.
    Localized(&'static str),
    /// Minor units at the first pointer, the currency at the second.
    Money(&'static str, &'static str),
    /// A time, to the minute.
    Time(&'static str),
    /// A state, drawn as a badge.
    Status(&'static str),
    /// A link: its text at the pointer, its target from the row.
    Link(&'static str, fn(&Value) -> String),
}

pub struct Column {
    /// A locale key.
    pub label: &'static str,
    pub cell: Cell,
}

/// A button on each row it applies to, posting to `target(row)`.
pub struct RowAction {
    pub label: &'static str,
    pub target: fn(&Value) -> String,
    /// A text the action needs (a reason, a note): the field's name and its label key.
    pub input: Option<(&'static str, &'static str)>,
    pub applies: fn(&Value) -> bool,
    pub danger: bool,
}

pub struct Table {
    pub title: &'static str,
    pub empty: &'static str,
    pub columns: Vec<Column>,
    pub actions: Vec<RowAction>,
}

/// A link above the list narrowing it (`?status=...`).
#[derive(Debug, Serialize)]
pub struct Filter {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

#[derive(Serialize)]
struct DrawnCell {
    text: String,
    href: Option<String>,
    status: bool,
}

#[derive(Serialize)]
struct DrawnAction {
    label: &'static str,
    target: String,
    input: Option<&'static str>,
    input_label: Option<&'static str>,
    danger: bool,
}

pub fn always(_: &Value) -> bool {
    true
}

pub fn field<'a>(row: &'a Value, pointer: &str) -> &'a Value {
    row.pointer(pointer).unwrap_or(&Value::Null)
}

pub fn text_of(row: &Value, pointer: &str) -> String {
    match field(row, pointer) {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_owned)
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn localized(value: &Value, locale: Locale) -> String {
    value
        .get(locale.code())
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| value.get("en").and_then(Value::as_str))
        .or_else(|| value.as_str())
        .unwrap_or_default()
        .to_owned()
}

impl Table {
    /// The list's page fields: `title`, `headers`, `rows`, `empty`, plus `filters` and the
    /// `next` page's link.
    pub fn draw(
        &self,
        locale: Locale,
        page: &Value,
        filters: Vec<Filter>,
        next: impl Fn(&str) -> String,
    ) -> Value {
        let items = page
            .get("items")
            .and_then(Value::as_array)
            .or_else(|| page.as_array())
            .cloned()
            .unwrap_or_default();
        let rows: Vec<Value> = items
            .iter()
            .map(|row| {
                let cells: Vec<DrawnCell> = self
                    .columns
                    .iter()
                    .map(|column| self.cell(&column.cell, row, locale))
                    .collect();
                let actions: Vec<DrawnAction> = self
                    .actions
                    .iter()
                    .filter(|action| (action.applies)(row))
                    .map(|action| DrawnAction {
                        label: action.label,
                        target: (action.target)(row),
                        input: action.input.map(|(name, _)| name),
                        input_label: action.input.map(|(_, label)| label),
                        danger: action.danger,
                    })
                    .collect();
                json!({"cells": cells, "actions": actions})
            })
            .collect();
        let next = page.get("nextCursor").and_then(Value::as_str).map(next);
        json!({
            "title": self.title,
            "empty": self.empty,
            "headers": self.columns.iter().map(|c| c.label).collect::<Vec<_>>(),
            "has_actions": !self.actions.is_empty(),
            "rows": rows,
            "filters": filters,
            "next": next,
        })
    }

    fn cell(&self, cell: &Cell, row: &Value, locale: Locale) -> DrawnCell {
        let plain = |text: String| DrawnCell {
            text,
            href: None,
            status: false,
        };
        match cell {
            Cell::Text(pointer) => plain(text_of(row, pointer)),
            Cell::Localized(pointer) => plain(localized(field(row, pointer), locale)),
            Cell::Money(amount, currency) => plain(format_money(
                field(row, amount).as_i64().unwrap_or_default(),
                &text_of(row, currency),
            )),
            Cell::Time(pointer) => plain(
                text_of(row, pointer)
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .replacen('T', " ", 1),
            ),
            Cell::Status(pointer) => DrawnCell {
                text: text_of(row, pointer),
                href: None,
                status: true,
            },
            Cell::Link(pointer, href) => {
                let text = match field(row, pointer) {
                    value @ Value::Object(_) => localized(value, locale),
                    _ => text_of(row, pointer),
                };
                DrawnCell {
                    text,
                    href: Some(href(row)),
                    status: false,
                }
            }
        }
    }
}

/// Filters over `param` for `values` on `base`, the current one marked.
pub fn filters(
    base: &str,
    param: &str,
    values: &[(&'static str, &'static str)],
    current: Option<&str>,
) -> Vec<Filter> {
    values
        .iter()
        .map(|(value, label)| Filter {
            label,
            href: if value.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{param}={value}")
            },
            current: current.unwrap_or_default() == *value,
        })
        .collect()
}

/// `?key=value&...` of the present values, encoded.
pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let present: Vec<(&str, &str)> = pairs
        .iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    if present.is_empty() {
        return String::new();
    }
    format!(
        "?{}",
        serde_urlencoded::to_string(present).unwrap_or_default()
    )
}

/// The filter value showing every state where no value means a default state.
pub const ALL: &str = "all";

/// A list narrowed by state: its states (value, label key), the one shown when none is chosen
/// (`None`: all of them), where the API lists it and where the page is.
pub struct ByState {
    pub api: String,
    /// Query pairs the API needs besides state and cursor (the merchant of a shop's list).
    pub api_params: Vec<(&'static str, String)>,
    pub page: String,
    pub states: &'static [(&'static str, &'static str)],
    pub default: Option<&'static str>,
}

impl ByState {
    /// Reads the page of the state `asked` (an unknown one: the default) after `cursor`, and
    /// draws it with `table`, its filters and its next page.
    pub async fn draw(
        &self,
        web: &crate::Web,
        visitor: &crate::session::Visitor,
        table: &Table,
        asked: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Value, crate::error::WebError> {
        let chosen = asked
            .and_then(|s| self.states.iter().map(|(v, _)| *v).find(|v| *v == s))
            .or(self.default);
        let status = chosen.filter(|s| !s.is_empty() && *s != ALL);
        let mut pairs: Vec<(&str, Option<&str>)> = self
            .api_params
            .iter()
            .map(|(k, v)| (*k, Some(v.as_str())))
            .collect();
        pairs.extend([("status", status), ("cursor", cursor)]);
        let found = web
            .read(visitor, format!("{}{}", self.api, query(&pairs)))
            .await?;
        Ok(table.draw(
            visitor.locale,
            &found,
            filters(&self.page, "status", self.states, chosen.or(Some(""))),
            |cursor| {
                format!(
                    "{}{}",
                    self.page,
                    query(&[("status", chosen), ("cursor", Some(cursor))])
                )
            },
        ))
    }
}
