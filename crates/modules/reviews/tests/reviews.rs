//! Reviews through the public API on both backends: only verified buyers review, once per
//! purchase; merchants respond once, only to their own reviews; helpful votes and reports
//! follow their rules and reports hold a review; banned words hold reviews until an admin
//! decides; the edit window; aggregates exact under concurrent reviews and carried to the
//! catalog and to voucher offers; loyalty counts approved reviews.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use testkit::{
    eventually, on_both_backends, uuid_of, Backend, MerchantFixture, Resp, Session, TestApp,
    OUTLET_LOCATION,
};
use uuid::Uuid;

on_both_backends!(
    only_verified_buyers_review_once_per_purchase,
    merchants_respond_once_and_votes_and_reports_follow_the_rules,
    banned_words_hold_reviews_until_an_admin_decides_and_edits_moderate_again,
    the_edit_window_closes_and_deletes_leave_the_aggregates,
    aggregates_stay_exact_under_concurrent_reviews_and_reach_the_catalog,
    voucher_offers_are_reviewed_after_redemption,
    loyalty_counts_each_approved_review_once,
);

const WAIT: Duration = Duration::from_secs(20);

async fn spawn(
    backend: Backend,
    edit: impl FnOnce(&mut reviews::config::ReviewsConfig) + Send + 'static,
) -> TestApp {
    TestApp::spawn_with(
        backend,
        move |c| {
            c.edit_section(|r: &mut reviews::config::ReviewsConfig| edit(r))
                .expect("reviews section")
        },
        Vec::new(),
    )
    .await
}

struct Shop {
    admin: Session,
    kopi: MerchantFixture,
    category: Uuid,
    lamp: Uuid,
    lamp_variant: Uuid,
}

/// Kopi sells a lamp (10.00).
async fn shop(app: &TestApp) -> Shop {
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let category = app.category(&admin, "home", None).await;
    let (lamp, lamp_variant) = app
        .listed_product(&kopi, &admin, category, "Lamp", "LAMP", 1_000, 1_000)
        .await;
    Shop {
        admin,
        kopi,
        category,
        lamp,
        lamp_variant,
    }
}

/// A paid order of `lines` (variant, quantity), moved by the merchant to DELIVERED.
async fn delivered(
    app: &TestApp,
    merchant: &MerchantFixture,
    customer: &Session,
    lines: &[(Uuid, i64)],
) -> Uuid {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(variant, quantity)| json!({"variantId": variant, "quantity": quantity}))
        .collect();
    let group = app
        .checkout(
            customer,
            json!({ "lines": lines }),
            Some(&Uuid::now_v7().to_string()),
        )
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    app.pay_in_full(customer, &group.body).await;
    let order = uuid_of(&group.body["orders"][0]["id"]);
    for to in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        let moved = app
            .patch(
                &format!("/api/v1/orders/{order}/status"),
                json!({"status": to}),
                Some(&merchant.owner.access_token),
            )
            .await;
        assert_eq!(moved.status, 200, "{to}: {:?}", moved.body);
    }
    order
}

/// Posts a review, waiting until reviews has heard of the purchase (events are applied
/// asynchronously: until then the caller is not a buyer yet).
async fn review_when_bought(app: &TestApp, path: &str, customer: &Session, body: Value) -> Resp {
    eventually(WAIT, "the purchase reaches reviews", || async {
        let resp = app
            .post(path, body.clone(), Some(&customer.access_token))
            .await;
        (resp.code() != "not_a_buyer").then_some(resp)
    })
    .await
}

async fn list(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let resp = app.get(path, token).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    resp.body
}

fn ids(page: &Value) -> Vec<Uuid> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| uuid_of(&r["id"]))
        .collect()
}

/// Waits until the catalog shows the product's rating as (average, count).
async fn product_rating_reaches(app: &TestApp, product: Uuid, average: Value, count: i64) {
    eventually(WAIT, "the product's rating", || async {
        let resp = app.get(&format!("/api/v1/products/{product}"), None).await;
        (resp.body["rating"]["count"] == count && resp.body["rating"]["average"] == average)
            .then_some(())
    })
    .await;
}

fn assert_problem(resp: &Resp, status: u16, code: &str) {
    assert_eq!(
        (resp.status, resp.code()),
        (status, code),
        "{:?}",
        resp.body
    );
    assert!(
        resp.header("content-type")
            .is_some_and(|t| t.starts_with("application/problem+json")),
        "{:?}",
        resp.headers
    );
}

async fn only_verified_buyers_review_once_per_purchase(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let shop = shop(&app).await;
    let path = format!("/api/v1/products/{}/reviews", shop.lamp);
    let buyer = app.customer("buyer").await;
    let stranger = app.customer("stranger").await;
    let body = json!({"rating": 4, "title": "Warm light", "text": "Bright enough to read by.", "anonymous": true});

    // Not a buyer: refused, and neither is a paid order not delivered yet.
    let refused = app
        .post(&path, body.clone(), Some(&stranger.access_token))
        .await;
    assert_problem(&refused, 403, "not_a_buyer");
    let anonymous = app.post(&path, body.clone(), None).await;
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.body);
    let group = app
        .checkout(
            &buyer,
            json!({"lines": [{"variantId": shop.lamp_variant, "quantity": 1}]}),
            None,
        )
        .await;
    app.pay_in_full(&buyer, &group.body).await;
    let paid_only = app
        .post(&path, body.clone(), Some(&buyer.access_token))
        .await;
    assert_problem(&paid_only, 403, "not_a_buyer");

    // Delivered: bad input is refused and changes nothing.
    let order = uuid_of(&group.body["orders"][0]["id"]);
    for to in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        let moved = app
            .patch(
                &format!("/api/v1/orders/{order}/status"),
                json!({"status": to}),
                Some(&shop.kopi.owner.access_token),
            )
            .await;
        assert_eq!(moved.status, 200, "{:?}", moved.body);
    }
    for bad in [
        json!({"rating": 0}),
        json!({"rating": 6, "text": "too good"}),
        json!({"rating": 5, "stars": 5}),
        json!({"rating": "five"}),
        json!({"rating": 5, "title": "x".repeat(121)}),
    ] {
        let resp = review_when_bought(&app, &path, &buyer, bad.clone()).await;
        assert!(
            matches!(resp.status, 400 | 422),
            "{bad}: {} {:?}",
            resp.status,
            resp.body
        );
        assert!(
            resp.header("content-type")
                .is_some_and(|t| t.starts_with("application/problem+json")),
            "{bad}"
        );
    }
    let empty = list(&app, &path, None).await;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["summary"]["count"], 0);
    assert_eq!(empty["summary"]["average"], Value::Null);

    // The review of the delivered order.
    let written = review_when_bought(&app, &path, &buyer, body.clone()).await;
    assert_eq!(written.status, 201, "{:?}", written.body);
    assert_eq!(written.body["status"], "APPROVED");
    assert_eq!(written.body["merchantId"], json!(shop.kopi.id));
    assert_eq!(
        written.body["author"]["customerId"],
        json!(buyer.user_id),
        "the author sees their name on their anonymous review"
    );
    let review = uuid_of(&written.body["id"]);

    // One review per purchase, by the order named or by default.
    let again = app
        .post(&path, body.clone(), Some(&buyer.access_token))
        .await;
    assert_problem(&again, 409, "review_exists");
    let named = app
        .post(
            &path,
            json!({"rating": 1, "orderId": order}),
            Some(&buyer.access_token),
        )
        .await;
    assert_problem(&named, 409, "review_exists");
    let other_order = app
        .post(
            &path,
            json!({"rating": 1, "orderId": Uuid::now_v7()}),
            Some(&buyer.access_token),
        )
        .await;
    assert_problem(&other_order, 403, "not_a_buyer");

    // Public, anonymous to others, with the product's rating.
    let public = list(&app, &path, None).await;
    assert_eq!(ids(&public), vec![review]);
    assert_eq!(public["items"][0]["author"], Value::Null);
    assert_eq!(public["items"][0]["anonymous"], true);
    assert_eq!(
        public["summary"],
        json!({"average": 4.0, "count": 1, "histogram": [0, 0, 0, 1, 0]})
    );
    let merchant = list(
        &app,
        &format!("/api/v1/merchants/{}/reviews", shop.kopi.id),
        None,
    )
    .await;
    assert_eq!(ids(&merchant), vec![review]);
    assert_eq!(merchant["summary"]["count"], 1);
    product_rating_reaches(&app, shop.lamp, json!(4.0), 1).await;
    app.stop().await;
}

async fn merchants_respond_once_and_votes_and_reports_follow_the_rules(backend: Backend) {
    let app = spawn(backend, |r| r.report_threshold = 3).await;
    let shop = shop(&app).await;
    let path = format!("/api/v1/products/{}/reviews", shop.lamp);
    let buyer = app.customer("buyer").await;
    delivered(&app, &shop.kopi, &buyer, &[(shop.lamp_variant, 1)]).await;
    let written = review_when_bought(
        &app,
        &path,
        &buyer,
        json!({"rating": 2, "text": "Flickers after a week."}),
    )
    .await;
    assert_eq!(written.status, 201, "{:?}", written.body);
    assert_eq!(written.body["author"]["displayName"], "buyer T.");
    let review = uuid_of(&written.body["id"]);
    let at = |what: &str| format!("/api/v1/reviews/{review}/{what}");
    product_rating_reaches(&app, shop.lamp, json!(2.0), 1).await;

    // Responses: a competitor's staff cannot, Kopi's manager can, once.
    let rival = app.merchant("Rival").await;
    let competitor = app
        .post(
            &at("response"),
            json!({"text": "Buy ours instead"}),
            Some(&rival.owner.access_token),
        )
        .await;
    assert_problem(&competitor, 403, "forbidden");
    let customer = app
        .post(
            &at("response"),
            json!({"text": "Not mine to answer"}),
            Some(&buyer.access_token),
        )
        .await;
    assert_eq!(customer.status, 403, "{:?}", customer.body);
    let manager = app.staff(&shop.kopi, "manager").await;
    let empty = app
        .post(
            &at("response"),
            json!({"text": "  "}),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(empty.status, 422, "{:?}", empty.body);
    let responded = app
        .post(
            &at("response"),
            json!({"text": "Sorry! Write to us for a replacement."}),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(responded.status, 201, "{:?}", responded.body);
    assert_eq!(
        responded.body["response"]["text"],
        "Sorry! Write to us for a replacement."
    );
    let second = app
        .post(
            &at("response"),
            json!({"text": "Again"}),
            Some(&shop.kopi.owner.access_token),
        )
        .await;
    assert_problem(&second, 409, "response_exists");
    let shown = list(&app, &path, None).await;
    assert_eq!(
        shown["items"][0]["response"]["merchantId"],
        json!(shop.kopi.id)
    );

    // Helpful votes: never one's own; once per user (a second vote changes nothing).
    let own = app
        .post(&at("helpful"), json!({}), Some(&buyer.access_token))
        .await;
    assert_problem(&own, 403, "own_review");
    let fan = app.customer("fan").await;
    let first = app
        .post(&at("helpful"), json!({}), Some(&fan.access_token))
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(
        (
            first.body["helpfulCount"].clone(),
            first.body["counted"].clone()
        ),
        (json!(1), json!(true))
    );
    let twice = app
        .post(&at("helpful"), json!({}), Some(&fan.access_token))
        .await;
    assert_eq!(twice.status, 200, "{:?}", twice.body);
    assert_eq!(
        (
            twice.body["helpfulCount"].clone(),
            twice.body["counted"].clone()
        ),
        (json!(1), json!(false))
    );
    let app_ref = &app;
    let votes = join_all((0..3).map(|i| async move {
        let app = app_ref;
        let voter = app.customer(&format!("voter{i}")).await;
        app.post(&at("helpful"), json!({}), Some(&voter.access_token))
            .await
    }))
    .await;
    assert!(votes.iter().all(|v| v.status == 200), "{votes:?}");
    assert_eq!(list(&app, &path, None).await["items"][0]["helpfulCount"], 4);

    // Reports: not one's own, once per user; the third holds the review.
    let own = app
        .post(
            &at("report"),
            json!({"reason": "mine"}),
            Some(&buyer.access_token),
        )
        .await;
    assert_problem(&own, 403, "own_review");
    let no_reason = app
        .post(
            &at("report"),
            json!({"reason": ""}),
            Some(&fan.access_token),
        )
        .await;
    assert_eq!(no_reason.status, 422, "{:?}", no_reason.body);
    let reported = app
        .post(
            &at("report"),
            json!({"reason": "rude"}),
            Some(&fan.access_token),
        )
        .await;
    assert_eq!(reported.status, 204, "{:?}", reported.body);
    let again = app
        .post(
            &at("report"),
            json!({"reason": "rude!"}),
            Some(&fan.access_token),
        )
        .await;
    assert_problem(&again, 409, "already_reported");
    for name in ["critic1", "critic2"] {
        let public = list(&app, &path, None).await;
        assert_eq!(ids(&public), vec![review], "public until the threshold");
        let critic = app.customer(name).await;
        let reported = app
            .post(
                &at("report"),
                json!({"reason": "spam"}),
                Some(&critic.access_token),
            )
            .await;
        assert_eq!(reported.status, 204, "{:?}", reported.body);
    }
    let held = list(&app, &path, None).await;
    assert_eq!(held["items"], json!([]));
    assert_eq!(held["summary"]["count"], 0);
    let mine = list(&app, &path, Some(&buyer.access_token)).await;
    assert_eq!(
        mine["items"][0]["status"], "PENDING",
        "the author still sees it"
    );
    let gone = app
        .post(&at("helpful"), json!({}), Some(&fan.access_token))
        .await;
    assert_problem(&gone, 404, "review_not_found");
    product_rating_reaches(&app, shop.lamp, Value::Null, 0).await;
    let queue = list(
        &app,
        "/api/v1/admin/reviews?status=PENDING",
        Some(&shop.admin.access_token),
    )
    .await;
    assert_eq!(ids(&queue), vec![review]);
    app.stop().await;
}

async fn banned_words_hold_reviews_until_an_admin_decides_and_edits_moderate_again(
    backend: Backend,
) {
    let app = spawn(backend, |r| r.banned_words = vec!["scam".into()]).await;
    let shop = shop(&app).await;
    let path = format!("/api/v1/products/{}/reviews", shop.lamp);
    let buyer = app.customer("buyer").await;
    delivered(&app, &shop.kopi, &buyer, &[(shop.lamp_variant, 2)]).await;
    let written = review_when_bought(
        &app,
        &path,
        &buyer,
        json!({"rating": 1, "title": "A SCAM!", "text": "Broken on arrival."}),
    )
    .await;
    assert_eq!(written.status, 201, "{:?}", written.body);
    assert_eq!(written.body["status"], "PENDING");
    let review = uuid_of(&written.body["id"]);
    let one = format!("/api/v1/reviews/{review}");

    // Held: not public, nor counted; its author and admins see it.
    let public = list(&app, &path, None).await;
    assert_eq!(
        (public["items"].clone(), public["summary"]["count"].clone()),
        (json!([]), json!(0))
    );
    assert_eq!(app.get(&one, None).await.status, 404);
    let stranger = app.customer("stranger").await;
    assert_eq!(
        app.get(&one, Some(&stranger.access_token)).await.status,
        404
    );
    assert_eq!(
        app.get(&one, Some(&buyer.access_token)).await.body["status"],
        "PENDING"
    );
    let customer_queue = app
        .get(
            "/api/v1/admin/reviews?status=PENDING",
            Some(&buyer.access_token),
        )
        .await;
    assert_eq!(customer_queue.status, 403);
    let queue = list(
        &app,
        "/api/v1/admin/reviews?status=PENDING",
        Some(&shop.admin.access_token),
    )
    .await;
    assert_eq!(ids(&queue), vec![review]);

    // A rejection needs a reason; a customer cannot decide.
    let reject = format!("/api/v1/admin/reviews/{review}/reject");
    let approve = format!("/api/v1/admin/reviews/{review}/approve");
    let no_reason = app
        .post(
            &reject,
            json!({"reason": " "}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(no_reason.status, 422, "{:?}", no_reason.body);
    let missing = app
        .post(&reject, json!({}), Some(&shop.admin.access_token))
        .await;
    assert!(matches!(missing.status, 400 | 422), "{:?}", missing.body);
    let by_customer = app
        .post(&approve, json!({}), Some(&buyer.access_token))
        .await;
    assert_eq!(by_customer.status, 403);
    let rejected = app
        .post(
            &reject,
            json!({"reason": "Insults"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(rejected.status, 200, "{:?}", rejected.body);
    assert_eq!(rejected.body["status"], "REJECTED");
    let seen = app.get(&one, Some(&buyer.access_token)).await;
    assert_eq!(seen.body["moderationNote"], "Insults");

    // Approved: public and counted.
    let approved = app
        .post(&approve, json!({}), Some(&shop.admin.access_token))
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    let public = list(&app, &path, None).await;
    assert_eq!(ids(&public), vec![review]);
    assert_eq!(public["summary"]["histogram"], json!([1, 0, 0, 0, 0]));

    // Edits: the rating moves the aggregate; a banned word holds it again, removing it
    // makes it public again.
    let edited = app
        .put(
            &one,
            json!({"rating": 3, "title": "Replaced", "text": "The new one works."}),
            Some(&buyer.access_token),
        )
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(edited.body["status"], "APPROVED");
    assert!(edited.body["editedAt"].is_string());
    let public = list(&app, &path, None).await;
    assert_eq!(
        public["summary"],
        json!({"average": 3.0, "count": 1, "histogram": [0, 0, 1, 0, 0]})
    );
    let by_other = app
        .put(&one, json!({"rating": 5}), Some(&stranger.access_token))
        .await;
    assert_eq!(by_other.status, 403, "{:?}", by_other.body);
    let unknown = app
        .put(
            &one,
            json!({"rating": 5, "status": "APPROVED"}),
            Some(&buyer.access_token),
        )
        .await;
    assert!(matches!(unknown.status, 400 | 422), "{:?}", unknown.body);
    let held = app
        .put(
            &one,
            json!({"rating": 4, "text": "scam scam"}),
            Some(&buyer.access_token),
        )
        .await;
    assert_eq!(held.body["status"], "PENDING", "{:?}", held.body);
    assert_eq!(list(&app, &path, None).await["summary"]["count"], 0);
    let cleaned = app
        .put(
            &one,
            json!({"rating": 4, "text": "fine now"}),
            Some(&buyer.access_token),
        )
        .await;
    assert_eq!(cleaned.body["status"], "APPROVED", "{:?}", cleaned.body);
    assert_eq!(
        list(&app, &path, None).await["summary"],
        json!({"average": 4.0, "count": 1, "histogram": [0, 0, 0, 1, 0]})
    );
    product_rating_reaches(&app, shop.lamp, json!(4.0), 1).await;
    app.stop().await;
}

async fn the_edit_window_closes_and_deletes_leave_the_aggregates(backend: Backend) {
    let app = spawn(backend, |r| r.edit_window_hours = 0).await;
    let shop = shop(&app).await;
    let path = format!("/api/v1/products/{}/reviews", shop.lamp);
    let buyer = app.customer("buyer").await;
    delivered(&app, &shop.kopi, &buyer, &[(shop.lamp_variant, 1)]).await;
    let written = review_when_bought(&app, &path, &buyer, json!({"rating": 5})).await;
    assert_eq!(written.status, 201, "{:?}", written.body);
    let one = format!("/api/v1/reviews/{}", uuid_of(&written.body["id"]));

    let edited = app
        .put(&one, json!({"rating": 1}), Some(&buyer.access_token))
        .await;
    assert_problem(&edited, 409, "edit_window_closed");
    assert_eq!(
        list(&app, &path, None).await["summary"]["histogram"],
        json!([0, 0, 0, 0, 1])
    );

    // Deleted by someone else: no; by its author: gone from lists and aggregates, and the
    // purchase stays reviewed.
    let stranger = app.customer("stranger").await;
    assert_eq!(
        app.delete(&one, Some(&stranger.access_token)).await.status,
        403
    );
    assert_eq!(
        app.delete(&one, Some(&buyer.access_token)).await.status,
        204
    );
    assert_eq!(
        app.delete(&one, Some(&buyer.access_token)).await.status,
        404
    );
    let public = list(&app, &path, None).await;
    assert_eq!(
        public,
        json!({"items": [], "nextCursor": null,
               "summary": {"average": null, "count": 0, "histogram": [0, 0, 0, 0, 0]}})
    );
    let again = app
        .post(&path, json!({"rating": 3}), Some(&buyer.access_token))
        .await;
    assert_problem(&again, 409, "review_exists");
    app.stop().await;
}

async fn aggregates_stay_exact_under_concurrent_reviews_and_reach_the_catalog(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let shop = shop(&app).await;
    let path = format!("/api/v1/products/{}/reviews", shop.lamp);
    let buyers: Vec<Session> = (0..20).map(|_| app.crowd_customer()).collect();
    let one_lamp = [(shop.lamp_variant, 1)];
    for chunk in buyers.chunks(5) {
        join_all(
            chunk
                .iter()
                .map(|b| delivered(&app, &shop.kopi, b, &one_lamp)),
        )
        .await;
    }
    // Ratings 1..5 four times each: sum 60.
    let written = join_all(buyers.iter().enumerate().map(|(i, buyer)| {
        let path = path.clone();
        let app = &app;
        async move {
            review_when_bought(
                app,
                &path,
                buyer,
                json!({"rating": i % 5 + 1, "text": format!("review {i}")}),
            )
            .await
        }
    }))
    .await;
    for resp in &written {
        assert_eq!(resp.status, 201, "{:?}", resp.body);
    }
    let page = list(&app, &format!("{path}?limit=100"), None).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(20));
    assert_eq!(
        page["summary"],
        json!({"average": 3.0, "count": 20, "histogram": [4, 4, 4, 4, 4]})
    );
    let merchant = list(
        &app,
        &format!("/api/v1/merchants/{}/reviews?limit=1", shop.kopi.id),
        None,
    )
    .await;
    assert_eq!(merchant["summary"]["count"], 20);
    product_rating_reaches(&app, shop.lamp, json!(3.0), 20).await;

    // Pages by rating, highest first, never repeat or skip.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?sort=rating_desc&limit=7&cursor={c}"),
            None => format!("{path}?sort=rating_desc&limit=7"),
        };
        let page = list(&app, &url, None).await;
        for item in page["items"].as_array().expect("items") {
            seen.push((
                item["rating"].as_i64().expect("rating"),
                uuid_of(&item["id"]),
            ));
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 20);
    assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "{seen:?}");
    let mut unique: Vec<Uuid> = seen.iter().map(|s| s.1).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 20);
    let fives = list(&app, &format!("{path}?rating=5"), None).await;
    assert_eq!(fives["items"].as_array().map(Vec::len), Some(4));
    let bad = app.get(&format!("{path}?cursor=***"), None).await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    app.stop().await;
}

async fn voucher_offers_are_reviewed_after_redemption(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let shop = shop(&app).await;
    let cashier = app.staff(&shop.kopi, "cashier").await;
    let outlet = app.outlet(&shop.kopi, "Main", OUTLET_LOCATION).await;
    let (offer, variant) = app
        .voucher_offer(
            &shop.kopi,
            &shop.admin,
            shop.category,
            "GC-10",
            1_000,
            10,
            json!({}),
        )
        .await;
    let path = format!("/api/v1/vouchers/{offer}/reviews");
    let buyer = app.customer("buyer").await;
    let order = app.paid_order(&buyer, variant, 1).await;
    let wallet = app.wallet_with(&buyer, "ACTIVE", 1).await;
    let voucher = uuid_of(&wallet[0]["id"]);

    // Bought but not used: not yet; nor is the voucher product reviewable as a product.
    let early = app
        .post(&path, json!({"rating": 5}), Some(&buyer.access_token))
        .await;
    assert_problem(&early, 403, "not_a_buyer");
    let product = uuid_of(
        &app.get(&format!("/api/v1/vouchers/{offer}"), None)
            .await
            .body["productId"],
    );
    app.order_reaches(&buyer, uuid_of(&order["id"]), "COMPLETED")
        .await;
    let as_product = app
        .post(
            &format!("/api/v1/products/{product}/reviews"),
            json!({"rating": 5}),
            Some(&buyer.access_token),
        )
        .await;
    assert_problem(&as_product, 403, "not_a_buyer");

    let token = app.qr_token(&buyer, voucher, false).await;
    let redeemed = app
        .redeem(&cashier, outlet, "till-1", json!({"token": token}), None)
        .await;
    assert_eq!(redeemed.body["status"], "APPROVED", "{:?}", redeemed.body);
    let wrong_field = app
        .post(
            &path,
            json!({"rating": 5, "orderId": Uuid::now_v7()}),
            Some(&buyer.access_token),
        )
        .await;
    assert_eq!(wrong_field.status, 422, "{:?}", wrong_field.body);
    let written = review_when_bought(
        &app,
        &path,
        &buyer,
        json!({"rating": 5, "text": "Great coffee", "voucherId": voucher}),
    )
    .await;
    assert_eq!(written.status, 201, "{:?}", written.body);
    assert_eq!(written.body["subjectKind"], "VOUCHER");
    let again = app
        .post(&path, json!({"rating": 4}), Some(&buyer.access_token))
        .await;
    assert_problem(&again, 409, "review_exists");

    let public = list(&app, &path, None).await;
    assert_eq!(
        public["summary"],
        json!({"average": 5.0, "count": 1, "histogram": [0, 0, 0, 0, 1]})
    );
    eventually(WAIT, "the offer's rating", || async {
        let resp = app.get(&format!("/api/v1/vouchers/{offer}"), None).await;
        (resp.body["rating"] == json!({"average": 5.0, "count": 1})).then_some(())
    })
    .await;
    let merchant = list(
        &app,
        &format!("/api/v1/merchants/{}/reviews", shop.kopi.id),
        None,
    )
    .await;
    assert_eq!(merchant["summary"]["count"], 1);
    assert_eq!(merchant["items"][0]["subjectId"], json!(offer));
    app.stop().await;
}

async fn loyalty_counts_each_approved_review_once(backend: Backend) {
    let app = spawn(backend, |r| r.banned_words = vec!["meh".into()]).await;
    let shop = shop(&app).await;
    let mut variants = vec![(shop.lamp, shop.lamp_variant)];
    for i in 1..5 {
        variants.push(
            app.listed_product(
                &shop.kopi,
                &shop.admin,
                shop.category,
                &format!("Mug {i}"),
                &format!("MUG-{i}"),
                400,
                10,
            )
            .await,
        );
    }
    let buyer = app.customer("reviewer").await;
    let lines: Vec<(Uuid, i64)> = variants.iter().map(|(_, v)| (*v, 1)).collect();
    delivered(&app, &shop.kopi, &buyer, &lines).await;

    // Four public reviews and one held; then the held one approved, rejected and approved
    // again: five reviews counted, once each.
    let mut held = None;
    for (i, (product, _)) in variants.iter().enumerate() {
        let text = if i == 4 { "meh" } else { "good" };
        let written = review_when_bought(
            &app,
            &format!("/api/v1/products/{product}/reviews"),
            &buyer,
            json!({"rating": 4, "text": text}),
        )
        .await;
        assert_eq!(written.status, 201, "{:?}", written.body);
        if i == 4 {
            assert_eq!(written.body["status"], "PENDING");
            held = Some(uuid_of(&written.body["id"]));
        }
    }
    let progress = || async {
        let resp = app
            .get("/api/v1/rewards/achievements", Some(&buyer.access_token))
            .await;
        resp.body
            .as_array()
            .and_then(|a| a.iter().find(|x| x["code"] == "five_reviews").cloned())
            .expect("five_reviews")
    };
    eventually(WAIT, "four reviews counted", || async {
        (progress().await["progress"] == 4).then_some(())
    })
    .await;
    let held = held.expect("held review");
    let token = Some(shop.admin.access_token.as_str());
    for (action, body) in [
        ("approve", json!({})),
        ("reject", json!({"reason": "second look"})),
        ("approve", json!({})),
    ] {
        let resp = app
            .post(
                &format!("/api/v1/admin/reviews/{held}/{action}"),
                body,
                token,
            )
            .await;
        assert_eq!(resp.status, 200, "{:?}", resp.body);
    }
    let approvals = app.list_events("review.approved").await.len();
    assert_eq!(approvals, 6, "four on creation, two by the admin");
    eventually(WAIT, "loyalty applied every approval", || async {
        let applied: i64 = platform::on_db!(&app.ctx().db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM platform_inbox i JOIN platform_outbox o ON o.id = i.event_id
             WHERE i.consumer = 'loyalty' AND o.event_type = 'review.approved'"
        ).fetch_one(pool).await)
        .expect("inbox read");
        (applied == 6).then_some(())
    })
    .await;
    let achievement = progress().await;
    assert_eq!(achievement["progress"], 5, "{achievement}");
    assert!(achievement["awardedAt"].is_string(), "{achievement}");
    // The review bonus: once per review, not per approval.
    let entries = app
        .get(
            "/api/v1/rewards/transactions?limit=100",
            Some(&buyer.access_token),
        )
        .await;
    let bonuses: Vec<&Value> = entries
        .body
        .as_array()
        .map(|e| e.iter().filter(|x| x["kind"] == "REVIEW").collect())
        .unwrap_or_default();
    assert_eq!(bonuses.len(), 5, "{:?}", entries.body);
    assert!(bonuses.iter().all(|b| b["points"] == 10), "{bonuses:?}");
    app.stop().await;
}
