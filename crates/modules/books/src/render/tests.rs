use super::*;

fn voucher(code: &str) -> Content {
    Content::Voucher {
        title: "កាហ្វេទឹកដោះគោ · Iced latte".into(),
        merchant: "ហាងកាហ្វេ Brown Coffee".into(),
        terms: "Valid at every branch. ប្រើបានតែម្តង។ Not exchangeable for cash; one \
                voucher per visit, not with other offers."
            .into(),
        validity: "Valid until 31 December 2026".into(),
        value: "$2.50".into(),
        qr_token: format!("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ7fSJ9.{code}.c2lnbmF0dXJl"),
        code: code.into(),
        pin: "4821".into(),
    }
}

fn book(bleed: bool) -> BookDoc {
    BookDoc {
        title: "សៀវភៅប័ណ្ណ ខែធ្នូ".into(),
        edition: "Edition 12 · លេខ ១២".into(),
        period: "December 2026".into(),
        kind: "monthly".into(),
        cover_note: Some("ប័ណ្ណនីមួយៗប្រើបានតែម្តង។ Each voucher can be used once.".into()),
        bleed,
        pages: vec![
            PageDoc {
                number: 1,
                placements: vec![
                    Placed {
                        slot: 0,
                        size: 1,
                        content: voucher("PSR-8F3K-29QD"),
                    },
                    Placed {
                        slot: 1,
                        size: 1,
                        content: voucher("PSR-1A2B-3C4D"),
                    },
                    Placed {
                        slot: 2,
                        size: 2,
                        content: Content::Ad {
                            headline: "បញ្ចុះតម្លៃ 50% Half price".into(),
                            body: "At every Brown Coffee in Phnom Penh.".into(),
                        },
                    },
                    Placed {
                        slot: 4,
                        size: 4,
                        content: Content::Sponsored {
                            sponsor: "ABA Bank".into(),
                            headline: "Pay with KHQR".into(),
                            body: "ទូទាត់ដោយ KHQR នៅគ្រប់ហាង។".into(),
                        },
                    },
                ],
            },
            PageDoc {
                number: 2,
                placements: vec![Placed {
                    slot: 0,
                    size: 8,
                    content: Content::Image {
                        caption: "រូបភាព Photo".into(),
                    },
                }],
            },
        ],
    }
}

fn find(pdf: &[u8], needle: &[u8]) -> Option<usize> {
    pdf.windows(needle.len()).position(|w| w == needle)
}

/// What a poppler tool says of the PDF (`pdfinfo -box`, `pdffonts`): the file's objects are
/// compressed, so they are read the way a print shop's tools read them.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    // pdftotext writes to a file named after the input unless told `-` (stdout) after it.
    let after: &[&str] = if tool == "pdftotext" { &["-"] } else { &[] };
    let file = std::env::temp_dir().join(format!("pasar-render-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&file, pdf).unwrap();
    let out = testkit::tools::run_tool(
        std::process::Command::new(testkit::tools::poppler(tool))
            .args(args)
            .arg(&file)
            .args(after),
    );
    let _ = std::fs::remove_file(&file);
    out
}

/// `(x0, y0, x1, y1)` of a box line of `pdfinfo -box` (`MediaBox:  0.00  0.00 ...`).
fn pdf_box(info: &str, name: &str) -> Option<Vec<f32>> {
    info.lines().find(|l| l.starts_with(name)).map(|l| {
        l.split_whitespace()
            .skip(1)
            .filter_map(|n| n.parse().ok())
            .collect()
    })
}

#[test]
fn renders_a_cover_and_every_page_with_extractable_text() {
    let pdf = render(&book(false)).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let info = poppler("pdfinfo", &[], &pdf);
    assert!(info.contains("Pages:           3"), "{info}");
    // Real, embedded fonts with ToUnicode maps, Khmer included, not outlines.
    let fonts = poppler("pdffonts", &[], &pdf);
    let khmer = fonts
        .lines()
        .find(|l| l.contains("NotoSansKhmer"))
        .unwrap_or_else(|| panic!("no Khmer font: {fonts}"));
    let columns: Vec<&str> = khmer.split_whitespace().collect();
    assert_eq!(
        &columns[columns.len() - 5..columns.len() - 2],
        ["yes", "yes", "yes"],
        "embedded, subset, ToUnicode: {fonts}"
    );
    let text = poppler("pdftotext", &["-q"], &pdf);
    assert!(text.contains("សៀវភៅប័ណ្ណ"), "Khmer extracts as text: {text}");
    assert!(text.contains("PSR-8F3K-29QD"), "{text}");
}

#[test]
fn the_same_book_gives_the_same_bytes() {
    let first = render(&book(true)).unwrap();
    let second = render(&book(true)).unwrap();
    assert!(first == second, "two renders differ");
    assert!(find(&first, b"/CreationDate").is_none());
}

#[test]
fn bleed_grows_the_media_box_and_sets_trim_and_bleed_boxes() {
    let plain = poppler("pdfinfo", &["-box"], &render(&book(false)).unwrap());
    let m = pdf_box(&plain, "MediaBox:").unwrap();
    assert!((m[2] - m[0] - A5_WIDTH_PT).abs() < 0.01, "{plain}");
    assert!((m[3] - m[1] - A5_HEIGHT_PT).abs() < 0.01, "{plain}");
    assert_eq!(
        pdf_box(&plain, "TrimBox:"),
        Some(m.clone()),
        "no trim box: the page is the trim"
    );

    let bled = poppler("pdfinfo", &["-box"], &render(&book(true)).unwrap());
    let b = pdf_box(&bled, "MediaBox:").unwrap();
    let grow = 2.0 * (BLEED + SLUG);
    assert!((b[2] - b[0] - (A5_WIDTH_PT + grow)).abs() < 0.01, "{bled}");
    assert!((b[3] - b[1] - (A5_HEIGHT_PT + grow)).abs() < 0.01, "{bled}");
    let trim = pdf_box(&bled, "TrimBox:").unwrap();
    assert!(
        (trim[2] - trim[0] - A5_WIDTH_PT).abs() < 0.01,
        "the trim is A5: {bled}"
    );
    let bleed = pdf_box(&bled, "BleedBox:").unwrap();
    assert!(
        (bleed[2] - bleed[0] - (A5_WIDTH_PT + 2.0 * BLEED)).abs() < 0.01,
        "{bled}"
    );
}

#[test]
fn a_bad_layout_is_an_error_not_a_panic() {
    let caption = || Content::Image {
        caption: "x".into(),
    };
    for (slot, size) in [(1, 2), (2, 4), (4, 8), (8, 1), (0, 3)] {
        let mut doc = book(false);
        doc.pages[0].placements = vec![Placed {
            slot,
            size,
            content: caption(),
        }];
        let result = render(&doc);
        assert!(
            matches!(result, Err(RenderError::Layout(_))),
            "slot {slot} size {size}"
        );
    }
    let mut doc = book(false);
    doc.pages[0].placements.push(Placed {
        slot: 1,
        size: 1,
        content: caption(),
    });
    assert!(matches!(render(&doc), Err(RenderError::Layout(_))));
}

#[test]
fn a_qr_payload_too_long_to_encode_is_an_error() {
    let mut doc = book(false);
    if let Content::Voucher { qr_token, .. } = &mut doc.pages[0].placements[0].content {
        *qr_token = "x".repeat(5000);
    }
    assert!(matches!(render(&doc), Err(RenderError::Qr { .. })));
}

#[test]
fn the_grid_fills_the_area_inside_the_margins() {
    let (last, _) = grid_area(7, 1).unwrap();
    assert!((last.right() - (A5_WIDTH_PT - MARGIN)).abs() < 0.01);
    assert!((last.bottom() - (A5_HEIGHT_PT - MARGIN)).abs() < 0.01);
    let (page, slots) = grid_area(0, 8).unwrap();
    assert_eq!(slots, 0xFF);
    assert!((page.bottom() - last.bottom()).abs() < 0.01);
    assert_eq!(grid_area(4, 4).unwrap().1, 0xF0);
}
