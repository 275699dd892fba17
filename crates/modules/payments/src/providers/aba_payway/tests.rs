use super::*;

const KEY: &str = "test-api-key";
const TRAN: &str = "0a1b2c3d4e5f60718293";

// Vectors computed with Python's hmac module from the documented concatenations.

#[test]
fn purchase_hash_covers_the_documented_fields_in_order() {
    let purchase = Purchase {
        req_time: "20260102030405".into(),
        merchant_id: "ec000002".into(),
        tran_id: TRAN.into(),
        amount: "12.50".into(),
        payment_option: PAYMENT_OPTION.into(),
        return_url: STANDARD.encode("https://pasar.example/api/v1/payments/webhook/aba_payway"),
        currency: "USD".into(),
        lifetime: "15".into(),
        ..Purchase::default()
    };
    assert_eq!(
        purchase.hash_input(),
        "20260102030405ec0000020a1b2c3d4e5f6071829312.50abapay_khqr_deeplink\
         aHR0cHM6Ly9wYXNhci5leGFtcGxlL2FwaS92MS9wYXltZW50cy93ZWJob29rL2FiYV9wYXl3YXk=USD15"
    );
    assert_eq!(
        sign(KEY, &purchase.hash_input()),
        "85gzSEk/9UO2JRw4eRA4lMmi93b66lleBeDLz4V990juw5BcZmFrvcB7AGqvo2h4tgxk3f6RSvWG0FKxvHyQTg=="
    );
}

#[test]
fn check_and_refund_hashes() {
    assert_eq!(
        sign(KEY, &format!("20260102030405ec000002{TRAN}")),
        "BI9KwWb8NhbANyk9AL6IJT6vXyxo8mt+95ojD+mN0nM2/NSvWHfL6fx1ahyB+WrsUVGgGgbmW0AdCVtnIAMVmQ=="
    );
    assert_eq!(
        sign(KEY, "20260102030405ec000002QUJD"),
        "De2OLyBlrt4/2wySpYGdFx98flzXKDBATcsz5YH9aglYvyFNTiXToeXcYz+jJy4UZk6LKPqLMApiYYlRYQLkSw=="
    );
}

#[test]
fn pushback_signature_sorts_and_stringifies_like_php() {
    let body: Map<String, Value> = serde_json::from_str(&format!(
        r#"{{"tran_id":"{TRAN}","status":"0","apv":"544415","return_params":""}}"#
    ))
    .unwrap();
    assert_eq!(pushback_text(&body), format!("5444150{TRAN}"));
    assert_eq!(
        sign(KEY, &pushback_text(&body)),
        "wnWSJVO73SQSREYzv0A4/cbhjZGqwKrkHlkgxrdTMK+MERWsVckRFm1s0I6Vsy+lBBNNseVGlCY2YlavAX+SfQ=="
    );
    let odd: Map<String, Value> = serde_json::from_str(
        r#"{"tran_id":"1","status":0,"total_amount":10.0,"paid":true,"none":null,"no":false,
            "meta":{"name":"h\u00e9","url":"https://a/b"},"tags":["x",1],"empty":{}}"#,
    )
    .unwrap();
    assert_eq!(
        pushback_text(&odd),
        r#"[]{"name":"h\u00e9","url":"https:\/\/a\/b"}10["x",1]101"#
    );
    assert_eq!(
        sign(KEY, &pushback_text(&odd)),
        "zgGce9mPca1KgsdoX1lf3HtRZ3Oh1CWkIkazQY00JT2lWRjee0NY8KVT+zbJfzmKjq6xJwYK/zyz/gWLsHNcfA=="
    );
}

#[test]
fn times_and_lifetimes() {
    let at = Timestamp::from_millis(1_767_323_045_678); // 2026-01-02T03:04:05.678Z
    assert_eq!(req_time(at), "20260102030405");
    assert_eq!(lifetime_minutes(at, at.plus_seconds(900)), 15);
    assert_eq!(lifetime_minutes(at, at.plus_seconds(30)), 3);
}

#[test]
fn multipart_bodies_name_each_field() {
    let body = multipart("b", &[("a", "1"), ("hash", "x+y=")]);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
         --b\r\nContent-Disposition: form-data; name=\"hash\"\r\n\r\nx+y=\r\n--b--\r\n"
    );
}

const PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDZwxGvpGZgm88nFf0JWbbkiD1Z
1VK89regFPgLeilF6a+X1mhzIZ/bjxmLhepsOUrXnZPB+dmq78pVe/t7R3cHNsrR
ClkS+MYs1Jd9Pwj20cMH4hIZB4taYWRphzLTNmintGowuZojvPr9fatbP9G1Cr1M
/4qc1TCB3hIIkPjhQQIDAQAB
-----END PUBLIC KEY-----";

#[test]
fn merchant_auth_is_one_rsa_block_per_chunk() {
    let key = refund_key(PUBLIC_PEM).expect("key");
    assert_eq!(key.size(), 128);
    // Environment variables carry the PEM with `\n` escapes.
    assert!(refund_key(&PUBLIC_PEM.replace('\n', "\\n")).is_ok());
    let short = STANDARD
        .decode(merchant_auth(&key, &[b'a'; 117]).unwrap())
        .unwrap();
    assert_eq!(short.len(), 128);
    let long = STANDARD
        .decode(merchant_auth(&key, &[b'a'; 118]).unwrap())
        .unwrap();
    assert_eq!(long.len(), 256);
    assert!(refund_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
}
