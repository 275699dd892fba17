//! The printable invoice of an order: HTML (every language the product names carry) and a
//! one-page PDF (the standard Helvetica font: English names, Latin-1 only).

use kernel::{format_amount, Timestamp};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::api::Order;

/// What the invoice shows besides the order.
pub struct InvoiceContext<'a> {
    pub group_number: &'a str,
    pub issued_at: Timestamp,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn date(at: Timestamp) -> String {
    at.to_datetime().format("%Y-%m-%d").to_string()
}

pub fn html(order: &Order, ctx: &InvoiceContext<'_>) -> String {
    let money = |amount: i64| escape(&format_amount(amount, order.currency));
    let mut rows = String::new();
    for line in &order.lines {
        let mut name = escape(&line.product_name.en);
        for other in [&line.product_name.km, &line.product_name.id]
            .into_iter()
            .flatten()
        {
            name.push_str(&format!("<br><small>{}</small>", escape(other)));
        }
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&line.sku),
            line.quantity,
            money(line.unit_price),
            money(line.line_total),
        ));
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {number}</title>
<style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto;color:#111}}table{{width:100%;border-collapse:collapse}}
td,th{{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}}.n{{text-align:right}}@media print{{body{{margin:0}}}}</style></head>
<body>
<h1>Invoice {number}</h1>
<p>Order group {group}<br>Issued {issued}<br>Ordered {ordered}<br>Status {status}</p>
<p>Merchant {merchant}<br>Customer {customer}</p>
<table><thead><tr><th>SKU</th><th>Item</th><th class="n">Qty</th><th class="n">Unit price</th><th class="n">Amount</th></tr></thead>
<tbody>
{rows}</tbody></table>
<table>
<tr><td>Subtotal</td><td class="n">{subtotal}</td></tr>
{discounts}<tr><td>Shipping{courier}</td><td class="n">{shipping}</td></tr>
<tr><td><strong>Total</strong></td><td class="n"><strong>{total}</strong></td></tr>
<tr><td>Refunded</td><td class="n">{refunded}</td></tr>
</table>
</body></html>
"#,
        number = escape(&order.number),
        group = escape(ctx.group_number),
        issued = date(ctx.issued_at),
        ordered = date(order.created_at),
        status = order.status.as_str(),
        merchant = order.merchant_id,
        customer = order.customer_id,
        subtotal = money(order.subtotal),
        discounts = order
            .discounts
            .iter()
            .map(|d| format!(
                "<tr><td>{}{}</td><td class=\"n\">-{}</td></tr>\n",
                escape(&d.name.en),
                d.code
                    .as_deref()
                    .map(|c| format!(" ({})", escape(c)))
                    .unwrap_or_default(),
                money(d.amount)
            ))
            .collect::<String>(),
        courier = order
            .shipping_details
            .as_ref()
            .map(|s| format!(
                " ({} {})",
                escape(&s.option.courier_name),
                escape(&s.option.service_name)
            ))
            .unwrap_or_default(),
        shipping = escape(&shipping_text(order)),
        total = money(order.total),
        refunded = money(order.refunded),
    )
}

/// The shipping charge, or why there is none.
fn shipping_text(order: &Order) -> String {
    if order.shipping_quoted {
        format_amount(order.shipping, order.currency)
    } else {
        "none (nothing ships)".to_owned()
    }
}

/// Text the standard PDF fonts can show: Latin-1, anything else as `?`.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .ok()
                .filter(|b| *b >= 0x20)
                .unwrap_or(b'?')
        })
        .collect()
}

pub fn pdf(order: &Order, ctx: &InvoiceContext<'_>) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let page_id = Ref::new(3);
    let font_id = Ref::new(4);
    let bold_id = Ref::new(5);
    let content_id = Ref::new(6);
    let (regular, bold) = (Name(b"F1"), Name(b"F2"));

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
    page.parent(tree_id);
    page.contents(content_id);
    let mut resources = page.resources();
    let mut fonts = resources.fonts();
    fonts.pair(regular, font_id);
    fonts.pair(bold, bold_id);
    fonts.finish();
    resources.finish();
    page.finish();
    pdf.type1_font(font_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    let money = |amount: i64| format_amount(amount, order.currency);
    let mut content = Content::new();
    let mut y = 790.0;
    let text = |content: &mut Content, x: f32, y: f32, font: Name, size: f32, value: &str| {
        content.begin_text();
        content.set_font(font, size);
        content.next_line(x, y);
        content.show(Str(&latin1(value)));
        content.end_text();
    };
    text(
        &mut content,
        50.0,
        y,
        bold,
        20.0,
        &format!("Invoice {}", order.number),
    );
    y -= 28.0;
    for line in [
        format!("Order group {}", ctx.group_number),
        format!(
            "Issued {}   Ordered {}   Status {}",
            date(ctx.issued_at),
            date(order.created_at),
            order.status.as_str()
        ),
        format!("Merchant {}", order.merchant_id),
        format!("Customer {}", order.customer_id),
    ] {
        text(&mut content, 50.0, y, regular, 10.0, &line);
        y -= 15.0;
    }
    y -= 15.0;
    for (x, head) in [
        (50.0, "SKU"),
        (150.0, "Item"),
        (360.0, "Qty"),
        (400.0, "Unit price"),
        (480.0, "Amount"),
    ] {
        text(&mut content, x, y, bold, 10.0, head);
    }
    y -= 16.0;
    for line in &order.lines {
        if y < 120.0 {
            text(
                &mut content,
                50.0,
                y,
                regular,
                10.0,
                "... (more lines in the HTML invoice)",
            );
            y -= 16.0;
            break;
        }
        let name: String = line.product_name.en.chars().take(38).collect();
        text(
            &mut content,
            50.0,
            y,
            regular,
            10.0,
            &line.sku.chars().take(18).collect::<String>(),
        );
        text(&mut content, 150.0, y, regular, 10.0, &name);
        text(
            &mut content,
            360.0,
            y,
            regular,
            10.0,
            &line.quantity.to_string(),
        );
        text(
            &mut content,
            400.0,
            y,
            regular,
            10.0,
            &money(line.unit_price),
        );
        text(
            &mut content,
            480.0,
            y,
            regular,
            10.0,
            &money(line.line_total),
        );
        y -= 15.0;
    }
    y -= 15.0;
    for (label, value, font) in [
        ("Subtotal", money(order.subtotal), regular),
        ("Discount", format!("-{}", money(order.discount)), regular),
        ("Shipping", shipping_text(order), regular),
        ("Total", money(order.total), bold),
        ("Refunded", money(order.refunded), regular),
    ] {
        text(&mut content, 360.0, y, font, 11.0, label);
        text(&mut content, 480.0, y, font, 11.0, &value);
        y -= 16.0;
    }
    pdf.stream(content_id, &content.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_pdf_text_is_latin1() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(latin1("Kopi ☕ é"), b"Kopi ? \xe9".to_vec());
    }
}
