//! The rules every page keeps, over HTTP: forms need this browser's token, the session cookie
//! is HttpOnly and SameSite (and Secure, under a `__Host-` name, over TLS), every page carries
//! the content policy and no inline script, each portal opens only for its people, and signing
//! out ends the session.

use serde_json::json;
use testkit::{on_both_backends, Backend, TestApp};

use crate::support::{Page, Visitor};

fn assert_page_rules(page: &Page, what: &str) {
    assert_eq!(
        page.headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok()),
        Some(web::CONTENT_SECURITY_POLICY),
        "{what}: the content policy"
    );
    assert!(
        web::CONTENT_SECURITY_POLICY.contains("script-src 'self'")
            && !web::CONTENT_SECURITY_POLICY.contains("unsafe-inline"),
        "the policy allows no inline script"
    );
    let html = page.body.to_lowercase();
    for piece in html.split("<script").skip(1) {
        let tag = piece.split('>').next().unwrap_or_default();
        assert!(
            tag.contains("src=\"/static/"),
            "{what}: an inline script: <script{tag}>"
        );
    }
    for handler in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onerror=",
        " onchange=",
        "javascript:",
    ] {
        assert!(
            !html.contains(handler),
            "{what}: an inline handler {handler}"
        );
    }
    assert!(
        html.contains("<html lang=\""),
        "{what}: the page's language"
    );
}

on_both_backends!(forms_without_this_browsers_token_are_refused_and_change_nothing);

async fn forms_without_this_browsers_token_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customer = app.customer("token-check").await;
    let mut browser = Visitor::new(&app);
    browser.sign_in(&customer.email, "/").await;
    let admin = app.admin().await;
    let category = app.category(&admin, "tok-cat", None).await;
    let merchant = app.merchant("Token Shop").await;
    let (_, variant) = app
        .listed_product(
            &merchant,
            &admin,
            category,
            "Token product",
            "TOK-1",
            500,
            5,
        )
        .await;
    let variant = variant.to_string();

    // No token, a wrong one, and a right one sent from another site: refused.
    let missing = browser
        .post_raw(
            "/cart/add",
            &[("variantId", &variant), ("quantity", "1")],
            &[],
        )
        .await;
    let wrong = browser
        .post_raw(
            "/cart/add",
            &[
                ("variantId", &variant),
                ("quantity", "1"),
                ("_csrf", "forged"),
            ],
            &[],
        )
        .await;
    let token = browser.csrf.clone().expect("a form token");
    let cross_site = browser
        .post_raw(
            "/cart/add",
            &[
                ("variantId", &variant),
                ("quantity", "1"),
                ("_csrf", &token),
            ],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    for (page, what) in [
        (&missing, "no token"),
        (&wrong, "a wrong token"),
        (&cross_site, "another site"),
    ] {
        assert_eq!(page.status, 403, "{what}: {}", page.body);
        assert!(
            page.body.contains("did not come from this site"),
            "{what}: the page says why"
        );
        assert_page_rules(page, what);
    }
    let cart = app.get("/api/v1/cart", Some(&customer.access_token)).await;
    assert_eq!(
        cart.body["items"],
        json!([]),
        "refused forms changed nothing"
    );

    // A stranger's browser has a token of its own, which this session does not take.
    let mut stranger = Visitor::new(&app);
    stranger.get("/login").await;
    let foreign = stranger.csrf.clone().expect("the stranger's token");
    let planted = browser
        .post_raw(
            "/cart/add",
            &[
                ("variantId", &variant),
                ("quantity", "1"),
                ("_csrf", &foreign),
            ],
            &[],
        )
        .await;
    assert_eq!(planted.status, 403, "another browser's token");

    // With this browser's token, the same form works.
    let added = browser
        .post("/cart/add", &[("variantId", &variant), ("quantity", "1")])
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(added.location(), "/cart");
    let cart = app.get("/api/v1/cart", Some(&customer.access_token)).await;
    assert_eq!(cart.body["items"].as_array().map(Vec::len), Some(1));
}

on_both_backends!(the_session_cookie_is_httponly_samesite_and_ends_at_sign_out);

async fn the_session_cookie_is_httponly_samesite_and_ends_at_sign_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customer = app.customer("cookie-check").await;
    let mut browser = Visitor::new(&app);
    let signed_in = browser.sign_in(&customer.email, "/wallet").await;
    assert_eq!(signed_in.location(), "/wallet");
    let cookie = signed_in
        .set_cookie("pasar_session")
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP: not Secure ({cookie})"
    );
    // The cookie is sealed: the tokens inside cannot be read from it.
    assert!(
        !cookie.contains(&customer.email) && !cookie.contains("eyJ"),
        "{cookie}"
    );
    let csrf = signed_in
        .set_cookie("pasar_csrf")
        .expect("a new form token at sign-in");
    assert!(csrf.contains("HttpOnly"), "{csrf}");

    let wallet = browser.get("/wallet").await;
    assert_eq!(wallet.status, 200, "{}", wallet.body);
    assert_page_rules(&wallet, "the wallet");
    let kept = browser.cookies.clone();

    let out = browser.post("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert!(out
        .set_cookie("pasar_session")
        .is_some_and(|c| c.contains("Max-Age=0")));
    // The old cookie, replayed, no longer opens anything: its refresh token was revoked and
    // its access token denied.
    let mut replay = Visitor::new(&app);
    replay.cookies = kept;
    let page = replay.get("/wallet").await;
    assert_eq!(page.status, 303, "a signed-out session: {}", page.body);
    assert!(
        page.location().starts_with("/login?next="),
        "{}",
        page.location()
    );

    // Over TLS the cookie is Secure and bound to this host.
    let tls = TestApp::spawn_with(
        backend,
        |c| {
            c.edit_section(|w: &mut web::config::WebConfig| w.secure_cookies = Some(true))
                .expect("the web section")
        },
        Vec::new(),
    )
    .await;
    let customer = tls.customer("tls-cookie").await;
    let mut browser = Visitor::new(&tls);
    let page = browser.get("/login").await;
    assert!(page
        .set_cookie("__Host-pasar_csrf")
        .is_some_and(|c| c.contains("; Secure")));
    let signed_in = browser.sign_in(&customer.email, "/").await;
    let cookie = signed_in
        .set_cookie("__Host-pasar_session")
        .expect("a __Host- session cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

on_both_backends!(each_portal_opens_only_for_its_people);

async fn each_portal_opens_only_for_its_people(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let merchant = app.merchant("Portal Shop").await;
    let cashier = app.staff(&merchant, "cashier").await;
    let other = app.merchant("Other Shop").await;
    let admin = app.admin().await;

    let mut browser = Visitor::new(&app);
    browser.sign_in(&cashier.email, "/merchant").await;
    for path in [
        "/admin",
        "/admin/users",
        "/admin/merchants",
        "/admin/fraud",
        "/admin/dead-letters",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 403, "a cashier opening {path}");
        assert_page_rules(&page, path);
    }
    // A form aimed at an admin page, with a valid token, is refused too and changes nothing.
    let suspend = browser
        .post(&format!("/admin/users/{}/suspend", admin.user_id), &[])
        .await;
    assert_eq!(suspend.status, 403);
    let me = app.get("/api/v1/users/me", Some(&admin.access_token)).await;
    assert_eq!(me.body["status"], "ACTIVE", "the admin was not suspended");
    // The cashier's own shop opens; another shop does not.
    let own = browser
        .get(&format!("/merchant/{}/counter", merchant.id))
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_page_rules(&own, "the counter");
    let foreign = browser
        .get(&format!("/merchant/{}/counter", other.id))
        .await;
    assert_eq!(foreign.status, 403, "another shop's counter");
    // The money pages are the owner's and managers': the API says no to a cashier.
    let money = browser
        .get(&format!("/merchant/{}/money", merchant.id))
        .await;
    assert_eq!(money.status, 403, "a cashier opening the shop's money");

    // Signed out, every portal asks to sign in first, and comes back after.
    let mut anonymous = Visitor::new(&app);
    for path in ["/admin", "/merchant", "/wallet", "/orders", "/cart"] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, 303, "{path} signed out");
        assert_eq!(page.location(), format!("/login?next=%2F{}", &path[1..]));
    }

    // The admin's pages open for an admin, each with the page rules.
    let mut admin_browser = Visitor::new(&app);
    let landed = admin_browser.sign_in(&admin.email, "/").await;
    assert_eq!(
        landed.location(),
        "/admin",
        "an admin lands in the admin portal"
    );
    for path in [
        "/admin",
        "/admin/merchants",
        "/admin/products",
        "/admin/reviews",
        "/admin/fraud",
        "/admin/payouts",
        "/admin/users",
        "/admin/dead-letters",
    ] {
        let page = admin_browser.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_page_rules(&page, path);
    }
}

on_both_backends!(public_pages_keep_the_rules_and_never_redirect_elsewhere);

async fn public_pages_keep_the_rules_and_never_redirect_elsewhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut browser = Visitor::new(&app);
    for path in [
        "/",
        "/offers",
        "/products",
        "/login",
        "/register",
        "/offers?kind=ITEM",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_page_rules(&page, path);
    }
    let missing = browser
        .get(&format!("/offers/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, 404);
    assert_page_rules(&missing, "a missing offer");

    // Languages: chosen by link, remembered, and never a way to another site.
    let km = browser.get("/lang/km?back=/offers").await;
    assert_eq!((km.status, km.location()), (303, "/offers"));
    let page = browser.get("/offers").await;
    assert!(page.body.contains("<html lang=\"km\""), "Khmer page");
    assert!(page.body.contains("ប័ណ្ណ"), "Khmer words");
    let away = browser.get("/lang/id?back=//evil.example/").await;
    assert_eq!(away.location(), "/", "no redirect to another site");
    let unknown = browser.get("/lang/fr?back=/").await;
    assert_eq!(unknown.status, 404);
    browser.get("/lang/en?back=/").await;

    // Sign-in comes back only to a page of this site.
    let customer = app.customer("redirect-check").await;
    let landed = browser
        .sign_in(&customer.email, "https://evil.example/")
        .await;
    assert_eq!(landed.location(), "/");
    let page = browser.get("/login").await;
    assert_eq!(page.status, 200);
    let wrong = browser
        .post(
            "/login",
            &[("email", &customer.email), ("password", "wrong password 1")],
        )
        .await;
    assert_eq!(wrong.status, 303, "a wrong password returns to the form");
    let shown = browser.get(wrong.location()).await;
    assert!(
        shown.body.contains("The email or password is wrong."),
        "{}",
        shown.body
    );
}

on_both_backends!(checkout_pages_order_once_per_form_and_show_a_khqr_code);

async fn checkout_pages_order_once_per_form_and_show_a_khqr_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let category = app.category(&admin, "khqr-cat", None).await;
    let merchant = app.merchant("KHQR Shop").await;
    let (_, variant) = app
        .voucher_offer(&merchant, &admin, category, "KHQR-1", 1_000, 10, json!({}))
        .await;
    let customer = app.customer("khqr-buyer").await;
    let mut browser = Visitor::new(&app);
    browser.sign_in(&customer.email, "/").await;
    let added = browser
        .post(
            "/cart/add",
            &[("variantId", &variant.to_string()), ("quantity", "1")],
        )
        .await;
    assert_eq!(added.location(), "/cart");

    let review = browser.get("/checkout").await;
    assert_eq!(review.status, 200, "{}", review.body);
    let marker = "name=\"key\" value=\"";
    let at = review.body.find(marker).expect("the form's key") + marker.len();
    let key = review.body[at..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    // The same form sent twice (a double click) places one order group.
    let first = browser.post("/checkout", &[("key", &key)]).await;
    let second = browser.post("/checkout", &[("key", &key)]).await;
    assert_eq!(first.status, 303, "{}", first.body);
    assert!(
        first.location().starts_with("/checkout/"),
        "{}",
        first.location()
    );
    assert_eq!(
        second.location(),
        first.location(),
        "the second send gets the same group"
    );
    let orders = app
        .get("/api/v1/orders", Some(&customer.access_token))
        .await;
    assert_eq!(
        orders.body["items"].as_array().map(Vec::len),
        Some(1),
        "one order"
    );

    let choose = browser.get(first.location()).await;
    assert_eq!(choose.status, 200, "{}", choose.body);
    assert!(choose.body.contains("value=\"khqr\""), "KHQR is offered");
    let at = choose.body.find(marker).expect("the payment form's key") + marker.len();
    let key = choose.body[at..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned();
    let paid = browser
        .post(
            &format!("{}/pay", first.location()),
            &[("method", "khqr"), ("key", &key)],
        )
        .await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert!(
        paid.location().starts_with("/payments/"),
        "{}",
        paid.location()
    );
    let again = browser
        .post(
            &format!("{}/pay", first.location()),
            &[("method", "khqr"), ("key", &key)],
        )
        .await;
    assert_eq!(again.location(), paid.location(), "one payment per form");
    let page = browser.get(paid.location()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_page_rules(&page, "the KHQR payment page");
    assert!(
        // minijinja escapes the `/` of attribute values; the browser reads it back.
        page.body.contains("src=\"data:image&#x2f;svg+xml;base64,"),
        "the KHQR code is shown: {}",
        page.body
    );
    assert!(
        page.body.contains("hx-get=\"/payments/"),
        "the page follows the payment"
    );
    // A payment method the deployment does not offer is refused by the page.
    let refused = browser
        .post(
            &format!("{}/pay", first.location()),
            &[("method", "midtrans"), ("key", &key)],
        )
        .await;
    assert_eq!(refused.status, 422);
}

on_both_backends!(pages_asking_at_once_refresh_the_session_once_and_stay_signed_in);

/// Access tokens living 20 s are refreshed on every page (30 s before expiry): two pages of one
/// browser asking at once must not present the refresh token twice (identity would take that
/// as theft and end the session).
async fn pages_asking_at_once_refresh_the_session_once_and_stay_signed_in(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.auth.access_token_ttl_secs = 20, Vec::new()).await;
    let customer = app.customer("refresh-race").await;
    let mut browser = Visitor::new(&app);
    browser.sign_in(&customer.email, "/").await;
    let kept = browser.cookies.clone();
    let mut pages = Vec::new();
    for path in ["/wallet", "/orders", "/account", "/cart"] {
        let mut tab = Visitor::new(&app);
        tab.cookies = kept.clone();
        pages.push(async move {
            let page = tab.get(path).await;
            (path, page.status, tab.cookies)
        });
    }
    let answers = futures_join_all(pages).await;
    for (path, status, _) in &answers {
        assert_eq!(*status, 200, "{path} at once");
    }
    // Each tab's refreshed cookie still opens pages afterwards: nothing was revoked.
    for (path, _, cookies) in answers {
        let mut tab = Visitor::new(&app);
        tab.cookies = cookies;
        let page = tab.get("/account").await;
        assert_eq!(page.status, 200, "after {path}: {}", page.body);
    }
}

async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out = Vec::new();
    // Started together, awaited in order: they run concurrently on the test's runtime.
    let mut pinned = handles;
    let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, future) in results.iter_mut().zip(pinned.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *slot = Some(value),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    for value in results.into_iter().flatten() {
        out.push(value);
    }
    out
}

on_both_backends!(a_free_voucher_listed_in_the_portal_is_capped_by_its_stock);

async fn a_free_voucher_listed_in_the_portal_is_capped_by_its_stock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let category = app.category(&admin, "free-cat", None).await;
    let merchant = app.merchant("Free Shop").await;
    let mut browser = Visitor::new(&app);
    browser
        .sign_in(&merchant.owner.email, &format!("/merchant/{}", merchant.id))
        .await;
    let form = browser
        .get(&format!("/merchant/{}/vouchers/new", merchant.id))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    let category = category.to_string();
    let created = browser
        .post(
            &format!("/merchant/{}/vouchers", merchant.id),
            &[
                ("title", "Free coffee"),
                ("categoryId", &category),
                ("kind", "ITEM"),
                ("price", "0"),
                ("faceValue", "2.50"),
                ("currency", "USD"),
                ("validDays", "30"),
                ("stock", "3"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let offers = app
        .get(
            &format!(
                "/api/v1/vouchers?merchantId={}&includeHidden=true",
                merchant.id
            ),
            Some(&merchant.owner.access_token),
        )
        .await;
    let offer = &offers.body["items"][0];
    assert_eq!(offer["claimable"], true, "{:?}", offers.body);
    assert_eq!(offer["totalCap"], 3, "the stock caps the claims");
    assert_eq!(offer["perCustomerCap"], 1, "one per customer");
    assert_eq!(offer["faceValue"], 250);

    // A malformed id in a page's path gets the error page, not a plain-text body.
    let page = browser.get("/merchant/not-an-id/vouchers").await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert_page_rules(&page, "a malformed id");
}

/// An 8×8 PNG: a product photo small enough for a test.
fn photo() -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, 8, 8);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("png header");
        writer
            .write_image_data(&[200u8; 8 * 8 * 3])
            .expect("png data");
    }
    bytes
}

on_both_backends!(variants_added_in_the_portal_and_photos_show_on_the_product_page);

async fn variants_added_in_the_portal_and_photos_show_on_the_product_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let category = app.category(&admin, "shirts", None).await;
    let merchant = app.merchant("Shirt Shop").await;
    let (product, _) = app
        .listed_product(
            &merchant,
            &admin,
            category,
            "Linen shirt",
            "SHIRT-M",
            1_500,
            5,
        )
        .await;
    let mut browser = Visitor::new(&app);
    browser
        .sign_in(&merchant.owner.email, &format!("/merchant/{}", merchant.id))
        .await;
    let page = browser
        .get(&format!("/merchant/{}/products/{product}", merchant.id))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let added = browser
        .post(
            &format!("/merchant/{}/products/{product}/variants", merchant.id),
            &[
                ("sku", "SHIRT-L"),
                ("option", "L"),
                ("price", "16.00"),
                ("currency", "USD"),
                ("stock", "4"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let variants = app
        .get(&format!("/api/v1/products/{product}/variants"), None)
        .await;
    let list = variants.body.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2, "{:?}", variants.body);
    let large = list
        .iter()
        .find(|v| v["sku"] == "SHIRT-L")
        .expect("the new variant");
    assert_eq!(large["price"], 1600);
    assert_eq!(large["options"]["option"], "L");
    app.stock_reaches(&merchant, "SHIRT-L", (4, 0)).await;

    // A photo in the product's gallery shows on its page.
    let part = reqwest::multipart::Part::bytes(photo())
        .file_name("shirt.png")
        .mime_str("image/png")
        .expect("mime");
    let form = reqwest::multipart::Form::new()
        .text("purpose", "PRODUCT_IMAGE")
        .part("file", part);
    let uploaded = app
        .send(
            app.client
                .post(app.url("/api/v1/media/upload"))
                .bearer_auth(&merchant.owner.access_token)
                .multipart(form),
        )
        .await;
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
    let attached = app
        .post(
            &format!("/api/v1/products/{product}/media"),
            json!({"mediaId": uploaded.body["id"]}),
            Some(&merchant.owner.access_token),
        )
        .await;
    assert!(attached.status < 300, "{:?}", attached.body);
    let mut shopper = Visitor::new(&app);
    let page = shopper.get(&format!("/products/{product}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_page_rules(&page, "the product page");
    let media = uploaded.body["id"].as_str().unwrap_or_default().to_owned();
    // minijinja escapes `/` in attribute values; the browser reads it back.
    let html = page.body.replace("&#x2f;", "/");
    assert!(
        html.contains(&format!("<img src=\"/api/v1/media/{media}")),
        "the photo is shown: {html}"
    );
    assert!(
        html.contains("L · SHIRT-L"),
        "the variant's option is shown"
    );
    let image = shopper.get(&format!("/api/v1/media/{media}")).await;
    assert_eq!(image.status, 200, "the photo's address answers");
}
