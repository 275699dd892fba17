//! What a book refuses, on both backends: placements off the grid or on top of each other,
//! placements without what their kind needs, non-admins, a generation that would pass an
//! offer's cap (nothing issued), and removing what was printed.

use serde_json::json;
use testkit::{on_both_backends, uuid_of, Backend, TestApp};
use uuid::Uuid;

use crate::print::{book, generated, page, place};

on_both_backends!(books_refuse_what_does_not_fit);

async fn books_refuse_what_does_not_fit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let dining = app.category(&admin, "dining", None).await;
    let (small, _) = app
        .voucher_offer(
            &kopi,
            &admin,
            dining,
            "SMALL",
            0,
            0,
            json!({"totalCap": 3, "faceValue": 300}),
        )
        .await;
    let (paid, _) = app
        .voucher_offer(&kopi, &admin, dining, "PAID", 900, 10, json!({}))
        .await;
    let book = book(&app, &admin, "December").await;
    let empty = app
        .post(
            &format!("/api/v1/admin/voucher-books/{book}/generate"),
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!((empty.status, empty.code()), (409, "book_empty"));
    let sheet = page(&app, &admin, book).await;
    place(
        &app,
        &admin,
        book,
        sheet,
        json!({"slot": 0, "size": 2, "kind": "AD", "headline": "Top row"}),
    )
    .await;
    let placements = format!("/api/v1/admin/voucher-books/{book}/pages/{sheet}/placements");
    let token = Some(admin.access_token.as_str());
    for (body, status, code) in [
        (
            json!({"slot": 1, "size": 1, "kind": "AD", "headline": "x"}),
            409,
            "slot_taken",
        ),
        (
            json!({"slot": 0, "size": 8, "kind": "AD", "headline": "x"}),
            409,
            "slot_taken",
        ),
        (
            json!({"slot": 3, "size": 2, "kind": "AD", "headline": "x"}),
            422,
            "validation_failed",
        ),
        (
            json!({"slot": 2, "size": 4, "kind": "AD", "headline": "x"}),
            422,
            "validation_failed",
        ),
        (
            json!({"slot": 2, "size": 3, "kind": "AD", "headline": "x"}),
            422,
            "validation_failed",
        ),
        (
            json!({"slot": 8, "size": 1, "kind": "AD", "headline": "x"}),
            422,
            "validation_failed",
        ),
        (
            json!({"slot": 2, "size": 1, "kind": "VOUCHER"}),
            422,
            "validation_failed",
        ),
        (
            json!({"slot": 2, "size": 1, "kind": "AD", "offerId": small, "headline": "x"}),
            422,
            "validation_failed",
        ),
        (
            json!({"slot": 2, "size": 1, "kind": "SPONSORED", "headline": "x"}),
            422,
            "validation_failed",
        ),
        (
            json!({"slot": 2, "size": 1, "kind": "VOUCHER", "offerId": Uuid::new_v4()}),
            422,
            "offer_not_found",
        ),
        (
            json!({"slot": 2, "size": 1, "kind": "VOUCHER", "offerId": paid}),
            422,
            "offer_not_printable",
        ),
    ] {
        let refused = app.post(&placements, body.clone(), token).await;
        assert_eq!(
            (refused.status, refused.code()),
            (status, code),
            "{body}: {:?}",
            refused.body
        );
    }
    let unknown_page = app
        .post(
            &format!(
                "/api/v1/admin/voucher-books/{book}/pages/{}/placements",
                Uuid::new_v4()
            ),
            json!({"slot": 2, "size": 1, "kind": "AD", "headline": "x"}),
            token,
        )
        .await;
    assert_eq!(
        (unknown_page.status, unknown_page.code()),
        (404, "page_not_found")
    );
    let view = app
        .get(&format!("/api/v1/admin/voucher-books/{book}"), token)
        .await;
    assert_eq!(
        view.body["pages"][0]["placements"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "refusals changed nothing"
    );

    // Only admins see books.
    let merchant_try = app
        .get(
            &format!("/api/v1/admin/voucher-books/{book}"),
            Some(&kopi.owner.access_token),
        )
        .await;
    assert_eq!(
        (merchant_try.status, merchant_try.code()),
        (404, "book_not_found")
    );
    let customer = app.customer("reader").await;
    let customer_list = app
        .get("/api/v1/admin/voucher-books", Some(&customer.access_token))
        .await;
    assert_eq!(customer_list.status, 404);
    let outside = app
        .post(
            "/internal/v1/vouchers/printed",
            json!({"offerId": small, "issueKeys": ["book:x:y"]}),
            token,
        )
        .await;
    assert_eq!(
        outside.status, 403,
        "printing is for the books module: {:?}",
        outside.body
    );
    let list = app
        .get("/api/v1/admin/voucher-books?status=DRAFT", token)
        .await;
    assert_eq!(list.body["items"][0]["id"], book.to_string());

    // Four vouchers of an offer with three left: nothing is issued, the book says why.
    for slot in 2..6 {
        place(
            &app,
            &admin,
            book,
            sheet,
            json!({"slot": slot, "size": 1, "kind": "VOUCHER", "offerId": small}),
        )
        .await;
    }
    let stopped = generated(&app, &admin, book).await;
    assert_eq!(stopped["status"], "DRAFT", "{stopped:?}");
    assert!(
        stopped["error"]
            .as_str()
            .unwrap_or_default()
            .contains("fewer vouchers left"),
        "{stopped:?}"
    );
    let offer = app.get(&format!("/api/v1/vouchers/{small}"), None).await;
    assert_eq!(offer.body["issued"], 0, "all or none");
    let pdf = app
        .get(&format!("/api/v1/admin/voucher-books/{book}/pdf"), token)
        .await;
    assert_eq!((pdf.status, pdf.code()), (409, "book_not_ready"));

    // With three, it prints; a printed placement stays.
    let last = view_placement(&app, token, book, 5).await;
    let removed = app.delete(&format!("{placements}/{last}"), token).await;
    assert_eq!(removed.status, 204);
    let ready = generated(&app, &admin, book).await;
    assert_eq!(ready["status"], "READY_FOR_PRINT", "{ready:?}");
    let printed = view_placement(&app, token, book, 2).await;
    let kept = app.delete(&format!("{placements}/{printed}"), token).await;
    assert_eq!((kept.status, kept.code()), (409, "placement_printed"));
    // Sold out now: hidden from the public, seen by admins.
    let offer = app.get(&format!("/api/v1/vouchers/{small}"), token).await;
    assert_eq!(offer.body["issued"], 3, "{:?}", offer.body);
    app.stop().await;
}

async fn view_placement(app: &TestApp, token: Option<&str>, book: Uuid, slot: u8) -> Uuid {
    let view = app
        .get(&format!("/api/v1/admin/voucher-books/{book}"), token)
        .await;
    let placement = view.body["pages"][0]["placements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slot"] == slot)
        .cloned()
        .expect("a placement at the slot");
    uuid_of(&placement["id"])
}
