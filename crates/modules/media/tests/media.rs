//! Media through the public API on both backends, on local disk and on a real S3-compatible
//! server (moto): uploads are judged by their content (a PNG named .jpg is a PNG, a PDF named
//! .png is no image, SVG and archives are refused, a decompression bomb never decodes), images
//! are served without their EXIF (GPS included), thumbnails come in the configured sizes and
//! are made once, private documents reach only those entitled, galleries and slots follow
//! their rules, orphans go after the grace period, and a store outage writes nothing.

use std::io::Cursor;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, Resp, S3Server, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    uploads_are_judged_by_their_content,
    images_are_served_without_their_metadata_and_thumbnailed_once,
    private_documents_reach_only_those_entitled,
    galleries_logos_and_avatars_follow_their_rules,
    orphaned_uploads_are_removed_after_the_grace_period,
    review_photos_are_their_authors,
    the_s3_store_serves_the_same_and_an_outage_writes_nothing,
);

const WAIT: Duration = Duration::from_secs(20);
const GPS_MARKER: &[u8] = b"PASAR-GPS-11.5564N-104.9282E";

async fn spawn(
    backend: Backend,
    edit: impl FnOnce(&mut media::config::MediaConfig) + Send + 'static,
) -> TestApp {
    TestApp::spawn_with(
        backend,
        move |c| {
            c.edit_section(|m: &mut media::config::MediaConfig| {
                m.max_upload_bytes = 2 * 1024 * 1024;
                edit(m)
            })
            .expect("media section")
        },
        Vec::new(),
    )
    .await
}

fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encoded");
    out.into_inner()
}

/// A JPEG carrying an EXIF segment with a GPS IFD (latitude ref and a marker string).
fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let plain = encoded(ImageFormat::Jpeg, width, height);
    // TIFF (little endian): IFD0 with one entry, GPSInfo (0x8825) -> the GPS IFD at 26, which
    // holds GPSLatitudeRef "N" and GPSMapDatum (0x0012) = the marker.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x8825u16.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let marker_at = 26 + 2 + 2 * 12 + 4;
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&0x0012u16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&(GPS_MARKER.len() as u32 + 1).to_le_bytes());
    tiff.extend_from_slice(&(marker_at as u32).to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(GPS_MARKER);
    tiff.push(0);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&plain[2..]);
    out
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn upload(
    app: &TestApp,
    who: &Session,
    purpose: &str,
    name: &str,
    declared: &str,
    bytes: Vec<u8>,
) -> Resp {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(declared)
        .expect("mime");
    let form = reqwest::multipart::Form::new()
        .text("purpose", purpose.to_owned())
        .part("file", part);
    app.send(
        app.client
            .post(app.url("/api/v1/media/upload"))
            .bearer_auth(&who.access_token)
            .multipart(form),
    )
    .await
}

struct Fetched {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

async fn fetch(app: &TestApp, path: &str, token: Option<&str>, etag: Option<&str>) -> Fetched {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    let response = request.send().await.expect("sent");
    Fetched {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.expect("body").to_vec(),
    }
}

fn header<'a>(fetched: &'a Fetched, name: &str) -> &'a str {
    fetched
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn uploads_are_judged_by_their_content(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let ana = app.customer("ana").await;

    // A PNG named .jpg and declared as JPEG is stored as the PNG it is.
    let png = upload(
        &app,
        &ana,
        "AVATAR",
        "me.jpg",
        "image/jpeg",
        encoded(ImageFormat::Png, 40, 30),
    )
    .await;
    assert_eq!(png.status, 201, "{:?}", png.body);
    assert_eq!(png.body["format"], "PNG");
    assert_eq!(png.body["contentType"], "image/png");
    assert_eq!(
        (png.body["width"].as_i64(), png.body["height"].as_i64()),
        (Some(40), Some(30))
    );
    // The same file again for the same purpose: the first upload.
    let again = upload(
        &app,
        &ana,
        "AVATAR",
        "again.png",
        "image/png",
        encoded(ImageFormat::Png, 40, 30),
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["id"], png.body["id"]);

    // A PDF named .png is no image; as a business document it is a private PDF.
    let pdf_image = upload(
        &app,
        &ana,
        "PRODUCT_IMAGE",
        "photo.png",
        "image/png",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(
        (pdf_image.status, pdf_image.code()),
        (415, "unsupported_media")
    );
    let document = upload(
        &app,
        &ana,
        "MERCHANT_DOCUMENT",
        "licence.png",
        "image/png",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(document.status, 201, "{:?}", document.body);
    assert_eq!(
        (
            document.body["format"].as_str(),
            document.body["private"].as_bool()
        ),
        (Some("PDF"), Some(true))
    );

    // An SVG with a script, a zip archive, and a PDF that runs JavaScript.
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#;
    let refused = upload(&app, &ana, "AVATAR", "a.svg", "image/svg+xml", svg.to_vec()).await;
    assert_eq!((refused.status, refused.code()), (415, "unsupported_media"));
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0bomb.txt".to_vec();
    let refused = upload(&app, &ana, "AVATAR", "a.jpg", "image/jpeg", zip).await;
    assert_eq!((refused.status, refused.code()), (415, "unsupported_media"));
    let scripted =
        b"%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF\n".to_vec();
    let refused = upload(
        &app,
        &ana,
        "MERCHANT_DOCUMENT",
        "x.pdf",
        "application/pdf",
        scripted,
    )
    .await;
    assert_eq!((refused.status, refused.code()), (422, "undecodable_media"));

    // A decompression bomb: a valid PNG of 30,000 x 30,000 pixels, a few hundred KB deflated.
    let bomb = {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 30_000, 30_000);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_compression(png::Compression::Best);
        let mut writer = encoder.write_header().expect("header");
        let mut stream = writer.stream_writer().expect("stream");
        let row = vec![0u8; 30_000];
        for _ in 0..30_000 {
            std::io::Write::write_all(&mut stream, &row).expect("row");
        }
        stream.finish().expect("finished");
        writer.finish().expect("written");
        out
    };
    assert!(
        bomb.len() < 2 * 1024 * 1024,
        "the bomb is small: {}",
        bomb.len()
    );
    let refused = upload(&app, &ana, "PRODUCT_IMAGE", "bomb.png", "image/png", bomb).await;
    assert_eq!((refused.status, refused.code()), (422, "image_too_large"));

    // Truncated, empty, too large.
    let jpeg = encoded(ImageFormat::Jpeg, 64, 64);
    let refused = upload(
        &app,
        &ana,
        "AVATAR",
        "cut.jpg",
        "image/jpeg",
        jpeg[..jpeg.len() / 2].to_vec(),
    )
    .await;
    assert_eq!((refused.status, refused.code()), (422, "undecodable_media"));
    let refused = upload(&app, &ana, "AVATAR", "empty.jpg", "image/jpeg", Vec::new()).await;
    assert_eq!(refused.status, 422);
    let refused = upload(
        &app,
        &ana,
        "AVATAR",
        "big.jpg",
        "image/jpeg",
        vec![0xFF; 3 * 1024 * 1024],
    )
    .await;
    assert_eq!((refused.status, refused.code()), (413, "media_too_large"));
    // Bad forms.
    let refused = upload(
        &app,
        &ana,
        "POSTER",
        "a.png",
        "image/png",
        encoded(ImageFormat::Png, 8, 8),
    )
    .await;
    assert_eq!(refused.status, 422);
    let anonymous = app
        .send(
            app.client
                .post(app.url("/api/v1/media/upload"))
                .multipart(reqwest::multipart::Form::new().text("purpose", "AVATAR")),
        )
        .await;
    assert_eq!(anonymous.status, 401);

    // Nothing refused reached the store: the avatar and the document only.
    let stored = count_files(&app.config.data_dir.join("media"));
    assert_eq!(stored, 2, "objects in the local store");
    app.stop().await;
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                count_files(&path)
            } else {
                1
            }
        })
        .sum()
}

async fn images_are_served_without_their_metadata_and_thumbnailed_once(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let ana = app.customer("ana").await;
    let photo = jpeg_with_gps(400, 300);
    assert!(contains(&photo, GPS_MARKER) && contains(&photo, b"Exif"));
    let uploaded = upload(&app, &ana, "AVATAR", "beach.jpg", "image/jpeg", photo).await;
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
    let id = uuid_of(&uploaded.body["id"]);

    let served = fetch(&app, &format!("/api/v1/media/{id}"), None, None).await;
    assert_eq!(served.status, 200);
    assert_eq!(header(&served, "content-type"), "image/jpeg");
    assert_eq!(
        header(&served, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(
        !contains(&served.bytes, GPS_MARKER),
        "the GPS position is served"
    );
    assert!(!contains(&served.bytes, b"Exif"), "EXIF is served");
    let decoded = image::load_from_memory(&served.bytes).expect("a JPEG");
    assert_eq!((decoded.width(), decoded.height()), (400, 300));
    let etag = header(&served, "etag").to_owned();
    let unchanged = fetch(&app, &format!("/api/v1/media/{id}"), None, Some(&etag)).await;
    assert_eq!(unchanged.status, 304);
    assert!(unchanged.bytes.is_empty());

    // Thumbnails: the longest side as asked, the aspect kept, the same bytes every time.
    let thumb = fetch(
        &app,
        &format!("/api/v1/media/{id}/thumbnail?size=128"),
        None,
        None,
    )
    .await;
    assert_eq!(thumb.status, 200);
    let small = image::load_from_memory(&thumb.bytes).expect("a JPEG thumbnail");
    assert_eq!((small.width(), small.height()), (128, 96));
    assert!(!contains(&thumb.bytes, GPS_MARKER));
    let again = fetch(
        &app,
        &format!("/api/v1/media/{id}/thumbnail?size=128"),
        None,
        None,
    )
    .await;
    assert_eq!(again.bytes, thumb.bytes);
    assert_eq!(header(&again, "etag"), header(&thumb, "etag"));
    // Larger than the image: never enlarged.
    let big = fetch(
        &app,
        &format!("/api/v1/media/{id}/thumbnail?size=1024"),
        None,
        None,
    )
    .await;
    let big = image::load_from_memory(&big.bytes).expect("a JPEG");
    assert_eq!((big.width(), big.height()), (400, 300));
    let odd = app
        .get(&format!("/api/v1/media/{id}/thumbnail?size=100"), None)
        .await;
    assert_eq!((odd.status, odd.code()), (422, "unknown_thumbnail_size"));
    let missing = app
        .get(&format!("/api/v1/media/{}", Uuid::now_v7()), None)
        .await;
    assert_eq!((missing.status, missing.code()), (404, "media_not_found"));
    app.stop().await;
}

async fn private_documents_reach_only_those_entitled(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let teh = app.merchant("Teh").await;
    let stranger = app.customer("stranger").await;

    let document = upload(
        &app,
        &kopi.owner,
        "MERCHANT_DOCUMENT",
        "licence.pdf",
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(document.status, 201);
    let id = uuid_of(&document.body["id"]);
    let path = format!("/api/v1/media/{id}");
    for outsider in [
        None,
        Some(stranger.access_token.as_str()),
        Some(teh.owner.access_token.as_str()),
    ] {
        let refused = fetch(&app, &path, outsider, None).await;
        assert_eq!(refused.status, 404, "an outsider sees a private document");
    }
    let own = fetch(&app, &path, Some(&kopi.owner.access_token), None).await;
    assert_eq!(own.status, 200);
    assert_eq!(own.bytes, PDF);
    assert_eq!(header(&own, "cache-control"), "private, no-store");
    assert!(header(&own, "content-disposition").starts_with("attachment"));
    let by_admin = fetch(&app, &path, Some(&admin.access_token), None).await;
    assert_eq!(by_admin.status, 200);

    // Attached to the merchant: listed for its owner and admins, hidden from the public.
    let attached = app
        .post(
            &format!("/api/v1/merchants/{}/documents", kopi.id),
            json!({"mediaId": id}),
            Some(&kopi.owner.access_token),
        )
        .await;
    assert_eq!(attached.status, 200, "{:?}", attached.body);
    assert_eq!(attached.body["items"].as_array().map(Vec::len), Some(1));
    let public = app
        .get(&format!("/api/v1/merchants/{}/media", kopi.id), None)
        .await;
    assert_eq!(public.body["items"], json!([]));
    let for_admin = app
        .get(
            &format!("/api/v1/merchants/{}/media", kopi.id),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(for_admin.body["items"][0]["media"]["id"], json!(id));
    // Another merchant cannot attach to Kopi, nor delete its document.
    let theirs = upload(
        &app,
        &teh.owner,
        "MERCHANT_DOCUMENT",
        "t.pdf",
        "application/pdf",
        PDF.to_vec(),
    )
    .await;
    let refused = app
        .post(
            &format!("/api/v1/merchants/{}/documents", kopi.id),
            json!({"mediaId": theirs.body["id"]}),
            Some(&teh.owner.access_token),
        )
        .await;
    assert_eq!(refused.status, 403);
    let refused = app.delete(&path, Some(&teh.owner.access_token)).await;
    assert_eq!(refused.status, 404);
    // The owner deletes it: gone for everyone, detached.
    assert_eq!(
        app.delete(&path, Some(&kopi.owner.access_token))
            .await
            .status,
        204
    );
    assert_eq!(
        fetch(&app, &path, Some(&admin.access_token), None)
            .await
            .status,
        404
    );
    let after = app
        .get(
            &format!("/api/v1/merchants/{}/media", kopi.id),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(after.body["items"], json!([]));
    app.stop().await;
}

async fn galleries_logos_and_avatars_follow_their_rules(backend: Backend) {
    let app = spawn(backend, |m| m.max_gallery_items = 3).await;
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let teh = app.merchant("Teh").await;
    let ana = app.customer("ana").await;
    let category = app.category(&admin, "home", None).await;
    let (lamp, _) = app
        .listed_product(&kopi, &admin, category, "Lamp", "LAMP", 1_000, 10)
        .await;

    let mut images = Vec::new();
    for side in [50, 60, 70, 80] {
        let up = upload(
            &app,
            &kopi.owner,
            "PRODUCT_IMAGE",
            "p.jpg",
            "image/jpeg",
            encoded(ImageFormat::Jpeg, side, side),
        )
        .await;
        assert_eq!(up.status, 201);
        images.push(uuid_of(&up.body["id"]));
    }
    let gallery = format!("/api/v1/products/{lamp}/media");
    let token = Some(kopi.owner.access_token.as_str());
    for image in &images[..2] {
        let added = app.post(&gallery, json!({"mediaId": image}), token).await;
        assert_eq!(added.status, 200, "{:?}", added.body);
    }
    // Inserted first, the others move down.
    let added = app
        .post(
            &gallery,
            json!({"mediaId": images[2], "position": 0}),
            token,
        )
        .await;
    let order: Vec<Value> = added.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["media"]["id"].clone())
        .collect();
    assert_eq!(
        order,
        vec![json!(images[2]), json!(images[0]), json!(images[1])]
    );
    let full = app
        .post(&gallery, json!({"mediaId": images[3]}), token)
        .await;
    assert_eq!((full.status, full.code()), (409, "gallery_full"));
    // Moving an item already there is no new item.
    let moved = app
        .post(
            &gallery,
            json!({"mediaId": images[1], "position": 0}),
            token,
        )
        .await;
    assert_eq!(moved.status, 200);
    let positions: Vec<(Value, Value)> = moved.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["media"]["id"].clone(), i["position"].clone()))
        .collect();
    assert_eq!(
        positions,
        vec![
            (json!(images[1]), json!(0)),
            (json!(images[2]), json!(1)),
            (json!(images[0]), json!(2))
        ]
    );
    // The public sees the gallery; other merchants cannot touch it.
    let public = app.get(&gallery, None).await;
    assert_eq!(public.body["items"].as_array().map(Vec::len), Some(3));
    let theirs = upload(
        &app,
        &teh.owner,
        "PRODUCT_IMAGE",
        "t.jpg",
        "image/jpeg",
        encoded(ImageFormat::Jpeg, 20, 20),
    )
    .await;
    let refused = app
        .post(
            &gallery,
            json!({"mediaId": theirs.body["id"]}),
            Some(&teh.owner.access_token),
        )
        .await;
    assert_eq!(refused.status, 403);
    // Someone else's upload is not Kopi's to use.
    let refused = app
        .post(&gallery, json!({"mediaId": theirs.body["id"]}), token)
        .await;
    assert_eq!(refused.status, 404);
    let unknown_product = app
        .post(
            &format!("/api/v1/products/{}/media", Uuid::now_v7()),
            json!({"mediaId": images[3]}),
            token,
        )
        .await;
    assert_eq!(
        (unknown_product.status, unknown_product.code()),
        (404, "product_not_found")
    );
    let tampered = app
        .post(
            &gallery,
            json!({"mediaId": images[3], "url": "https://evil.example/x.jpg"}),
            token,
        )
        .await;
    assert_eq!(tampered.status, 422);
    let removed = app.delete(&format!("{gallery}/{}", images[1]), token).await;
    assert_eq!(removed.status, 200);
    let positions: Vec<Value> = removed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["position"].clone())
        .collect();
    assert_eq!(positions, vec![json!(0), json!(1)]);

    // A logo takes a logo upload, and a new logo replaces the last.
    let logo_path = format!("/api/v1/merchants/{}/logo", kopi.id);
    let wrong = app
        .put(&logo_path, json!({"mediaId": images[3]}), token)
        .await;
    assert_eq!((wrong.status, wrong.code()), (409, "wrong_purpose"));
    let first = upload(
        &app,
        &kopi.owner,
        "MERCHANT_LOGO",
        "l.png",
        "image/png",
        encoded(ImageFormat::Png, 32, 32),
    )
    .await;
    let second = upload(
        &app,
        &kopi.owner,
        "MERCHANT_LOGO",
        "l2.png",
        "image/png",
        encoded(ImageFormat::Png, 48, 48),
    )
    .await;
    assert_eq!(
        app.put(&logo_path, json!({"mediaId": first.body["id"]}), token)
            .await
            .status,
        200
    );
    let replaced = app
        .put(&logo_path, json!({"mediaId": second.body["id"]}), token)
        .await;
    let logos: Vec<Value> = replaced.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["media"]["id"].clone())
        .collect();
    assert_eq!(logos, vec![second.body["id"].clone()]);
    let detail = app
        .get(
            &format!("/api/v1/media/{}/details", uuid_of(&first.body["id"])),
            None,
        )
        .await;
    assert_eq!(detail.body["attached"], false);

    // Avatars: one's own.
    let avatar = upload(
        &app,
        &ana,
        "AVATAR",
        "a.webp",
        "image/webp",
        encoded(ImageFormat::WebP, 24, 24),
    )
    .await;
    assert_eq!(avatar.status, 201, "{:?}", avatar.body);
    assert_eq!(avatar.body["format"], "WEBP");
    let set = app
        .put(
            "/api/v1/users/me/avatar",
            json!({"mediaId": avatar.body["id"]}),
            Some(&ana.access_token),
        )
        .await;
    assert_eq!(set.status, 200);
    let shown = app
        .get(&format!("/api/v1/users/{}/media", ana.user_id), None)
        .await;
    assert_eq!(shown.body["items"][0]["slot"], "AVATAR");
    // Deleting an attached upload detaches it.
    assert_eq!(
        app.delete(
            &format!("/api/v1/media/{}", avatar.body["id"].as_str().unwrap()),
            Some(&ana.access_token)
        )
        .await
        .status,
        204
    );
    let shown = app
        .get(&format!("/api/v1/users/{}/media", ana.user_id), None)
        .await;
    assert_eq!(shown.body["items"], json!([]));
    app.stop().await;
}

async fn review_photos_are_their_authors(backend: Backend) {
    let app = spawn(backend, |m| m.max_review_photos = 2).await;
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let ana = app.customer("ana").await;
    let bob = app.customer("bob").await;
    let category = app.category(&admin, "home", None).await;
    let (lamp, variant) = app
        .listed_product(&kopi, &admin, category, "Lamp", "LAMP", 1_000, 10)
        .await;
    // Ana receives the lamp and reviews it.
    let group = app
        .checkout(
            &ana,
            json!({"lines": [{"variantId": variant, "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    app.pay_in_full(&ana, &group.body).await;
    let order = uuid_of(&group.body["orders"][0]["id"]);
    for to in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        let moved = app
            .patch(
                &format!("/api/v1/orders/{order}/status"),
                json!({"status": to}),
                Some(&kopi.owner.access_token),
            )
            .await;
        assert_eq!(moved.status, 200, "{to}: {:?}", moved.body);
    }
    let review = eventually(WAIT, "the purchase reaches reviews", || async {
        let resp = app
            .post(
                &format!("/api/v1/products/{lamp}/reviews"),
                json!({"rating": 5, "title": "Bright"}),
                Some(&ana.access_token),
            )
            .await;
        (resp.code() != "not_a_buyer").then_some(resp)
    })
    .await;
    assert_eq!(review.status, 201, "{:?}", review.body);
    let photos = format!(
        "/api/v1/reviews/{}/photos",
        review.body["id"].as_str().unwrap()
    );

    let mut uploads = Vec::new();
    for side in [30, 31, 32] {
        let up = upload(
            &app,
            &ana,
            "REVIEW_PHOTO",
            "r.jpg",
            "image/jpeg",
            encoded(ImageFormat::Jpeg, side, side),
        )
        .await;
        assert_eq!(up.status, 201, "{:?}", up.body);
        uploads.push(up.body["id"].clone());
    }
    for photo in &uploads[..2] {
        let added = app
            .post(&photos, json!({"mediaId": photo}), Some(&ana.access_token))
            .await;
        assert_eq!(added.status, 200, "{:?}", added.body);
    }
    let full = app
        .post(
            &photos,
            json!({"mediaId": uploads[2]}),
            Some(&ana.access_token),
        )
        .await;
    assert_eq!((full.status, full.code()), (409, "gallery_full"));
    // Not Bob's review, not a review at all.
    let bobs = upload(
        &app,
        &bob,
        "REVIEW_PHOTO",
        "b.jpg",
        "image/jpeg",
        encoded(ImageFormat::Jpeg, 40, 40),
    )
    .await;
    let refused = app
        .post(
            &photos,
            json!({"mediaId": bobs.body["id"]}),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(refused.status, 403);
    let missing = app
        .post(
            &format!("/api/v1/reviews/{}/photos", Uuid::now_v7()),
            json!({"mediaId": uploads[2]}),
            Some(&ana.access_token),
        )
        .await;
    assert_eq!((missing.status, missing.code()), (404, "review_not_found"));
    let listed = app.get(&photos, None).await;
    let slots: Vec<Value> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["slot"].clone())
        .collect();
    assert_eq!(slots, vec![json!("PHOTOS"), json!("PHOTOS")]);
    app.stop().await;
}

async fn orphaned_uploads_are_removed_after_the_grace_period(backend: Backend) {
    let app = spawn(backend, |m| m.orphan_grace_hours = 0).await;
    let ana = app.customer("ana").await;
    let kept = upload(
        &app,
        &ana,
        "AVATAR",
        "a.png",
        "image/png",
        encoded(ImageFormat::Png, 16, 16),
    )
    .await;
    let orphan = upload(
        &app,
        &ana,
        "AVATAR",
        "b.png",
        "image/png",
        encoded(ImageFormat::Png, 17, 17),
    )
    .await;
    let kept_id = uuid_of(&kept.body["id"]);
    let orphan_id = uuid_of(&orphan.body["id"]);
    assert_eq!(
        app.put(
            "/api/v1/users/me/avatar",
            json!({"mediaId": kept_id}),
            Some(&ana.access_token)
        )
        .await
        .status,
        200
    );
    // A thumbnail made, so it goes too.
    assert_eq!(
        fetch(
            &app,
            &format!("/api/v1/media/{orphan_id}/thumbnail?size=128"),
            None,
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(count_files(&app.config.data_dir.join("media")), 3);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut tx = app.ctx().db.begin().await.expect("tx");
    platform::jobs::enqueue(
        &mut tx,
        "media.remove_orphans",
        &json!({}),
        kernel::Timestamp::now(),
        3,
    )
    .await
    .expect("enqueued");
    tx.commit().await.expect("committed");
    eventually(WAIT, "the orphan is removed", || async {
        (app.get(&format!("/api/v1/media/{orphan_id}/details"), None)
            .await
            .status
            == 404)
            .then_some(())
    })
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/media/{kept_id}/details"), None)
            .await
            .status,
        200
    );
    // Its objects go after the row (queued in the deleting transaction, removed after it).
    eventually(WAIT, "the orphan's objects left the store", || async {
        (count_files(&app.config.data_dir.join("media")) == 1).then_some(())
    })
    .await;
    app.stop().await;
}

async fn the_s3_store_serves_the_same_and_an_outage_writes_nothing(backend: Backend) {
    let mut s3 = S3Server::start();
    s3.create_bucket("pasar-media").await;
    let endpoint = s3.endpoint();
    let app = spawn(backend, move |m| {
        m.storage = "s3".into();
        m.s3.endpoint = endpoint;
        m.s3.bucket = "pasar-media".into();
        m.s3.region = "us-east-1".into();
        m.s3.access_key_id = "test".into();
        m.s3.secret_access_key = "test".into();
        m.s3.allow_http = true;
        m.s3.prefix = "media".into();
    })
    .await;
    let ana = app.customer("ana").await;
    let photo = jpeg_with_gps(300, 200);
    let uploaded = upload(&app, &ana, "AVATAR", "p.jpg", "image/jpeg", photo.clone()).await;
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
    let id = uuid_of(&uploaded.body["id"]);
    let served = fetch(&app, &format!("/api/v1/media/{id}"), None, None).await;
    assert_eq!(served.status, 200);
    assert!(!contains(&served.bytes, GPS_MARKER));
    // The object is in the bucket, under the prefix.
    let listing = reqwest::get(format!(
        "{}/pasar-media?list-type=2&prefix=media/{id}/",
        s3.endpoint()
    ))
    .await
    .expect("listed")
    .text()
    .await
    .expect("text");
    assert!(
        listing.contains(&format!("media/{id}/original.jpg")),
        "{listing}"
    );
    let thumb = fetch(
        &app,
        &format!("/api/v1/media/{id}/thumbnail?size=128"),
        None,
        None,
    )
    .await;
    let small = image::load_from_memory(&thumb.bytes).expect("a thumbnail");
    assert_eq!((small.width(), small.height()), (128, 85));

    // The store goes away: a clear 503, and no upload is recorded.
    s3.stop();
    let other = encoded(ImageFormat::Png, 33, 33);
    let refused = upload(&app, &ana, "AVATAR", "q.png", "image/png", other.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (503, "storage_unavailable"),
        "{:?}",
        refused.body
    );
    let unavailable = app.get(&format!("/api/v1/media/{id}"), None).await;
    assert_eq!(unavailable.status, 503);
    // Back (empty): the same file is a new upload, so nothing was half-recorded.
    s3.restart();
    s3.create_bucket("pasar-media").await;
    let retried = upload(&app, &ana, "AVATAR", "q.png", "image/png", other).await;
    assert_eq!(retried.status, 201, "{:?}", retried.body);
    app.stop().await;
}
