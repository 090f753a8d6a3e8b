//! Served bytes judged by the bytes themselves: the real format of every `f_`, `q_` reaching each lossy encoder, and no metadata in any output.
use image::{ImageEncoder, ImageFormat};

use crate::helpers::*;

#[path = "../support/containers.rs"]
pub(crate) mod containers;
pub use containers::sniff_format;
use containers::{jpeg_segments, png_chunks, webp_chunks};

/// GETs `path` (with `Accept` when given), asserts 200, and returns the Content-Type and the body.
fn fetch(app: &TestApp, path: &str, accept: Option<&str>) -> (String, Vec<u8>) {
    let mut req = app.client().get(app.url(path));
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let r = req.send().unwrap();
    assert_eq!(r.status(), 200, "{path}");
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    (ct, r.bytes().unwrap().to_vec())
}

fn mime(f: &str) -> &'static str {
    match f {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "gif" => "image/gif",
        _ => panic!("no mime for {f}"),
    }
}

#[test]
fn every_f_serves_the_format_it_names() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, fixture("bug725582-testrotate.jpg"), "photo.jpg", &[("public_id", "photo")]);
    let alpha = draw(40, 40, ImageFormat::Png, |x, _| [200, 30, 30, if x < 20 { 0 } else { 255 }]);
    app.upload_ok(&key, alpha, "alpha.png", &[("public_id", "alpha")]);

    for f in ["jpg", "png", "webp", "avif", "gif"] {
        let (ct, bytes) = fetch(&app, &format!("/v1/image/w_64,f_{f}/photo"), None);
        assert_eq!(sniff_format(&bytes), Some(f), "f_{f}: served bytes (Content-Type {ct})");
        assert_eq!(ct, mime(f), "f_{f}");
    }
    // Identity and no f: the source's own format, re-encoded.
    for path in ["/v1/image/photo", "/v1/image/w_64/photo"] {
        let (ct, bytes) = fetch(&app, path, None);
        assert_eq!((sniff_format(&bytes), ct.as_str()), (Some("jpg"), "image/jpeg"), "{path}");
    }
    // f_auto's outcomes: AVIF, WebP, and the fallback (JPEG for an opaque source, PNG with alpha).
    for (id, accept, f) in [
        ("photo", "image/avif,image/webp,*/*", "avif"),
        ("photo", "image/webp,*/*", "webp"),
        ("photo", "*/*", "jpg"),
        ("alpha", "*/*", "png"),
    ] {
        let (ct, bytes) = fetch(&app, &format!("/v1/image/w_32,f_auto/{id}"), Some(accept));
        assert_eq!(sniff_format(&bytes), Some(f), "f_auto for {id} with Accept {accept:?} (Content-Type {ct})");
        assert_eq!(ct, mime(f), "f_auto for {id} with Accept {accept:?}");
    }
}

/// On a real photo, q_20 must be far smaller than q_95 in every lossy format: an encoder that
/// ignored `q_` (or a cache key that dropped it) would serve the same bytes for both.
#[test]
fn q_changes_the_size_of_jpg_webp_and_avif() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, fixture("bug725582-testrotate.jpg"), "photo.jpg", &[("public_id", "photo")]);
    for f in ["jpg", "webp", "avif"] {
        let size = |q: u8| {
            let (_, bytes) = fetch(&app, &format!("/v1/image/w_320,q_{q},f_{f}/photo"), None);
            assert_eq!(sniff_format(&bytes), Some(f), "q_{q},f_{f}");
            bytes.len()
        };
        let (low, high) = (size(20), size(95));
        assert!(low * 3 < high, "f_{f}: q_20 gave {low} B, q_95 {high} B");
    }
}

// ---------- metadata ----------

const XMP: &[u8] = b"<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description xmlns:dc='http://purl.org/dc/elements/1.1/' dc:creator='Alice, secret GPS 51.5N 0.1W'/></rdf:RDF></x:xmpmeta><?xpacket end='w'?>";
const XMP_NS: &[u8] = b"http://ns.adobe.com/xap/1.0/";

/// A camera's EXIF block (TIFF header onwards), taken from a real photo so it carries make, model and dates.
fn camera_exif() -> Vec<u8> {
    let photo = fixture("bug725582-testrotate.jpg");
    let mut i = 2;
    while photo[i] == 0xFF && photo[i + 1] != 0xDA {
        let len = usize::from(u16::from_be_bytes([photo[i + 2], photo[i + 3]]));
        let seg = &photo[i + 4..i + 2 + len];
        if photo[i + 1] == 0xE1 && seg.starts_with(b"Exif\0\0") {
            return seg[6..].to_vec();
        }
        i += 2 + len;
    }
    panic!("the fixture photo has no EXIF segment");
}

/// A real photo's pixels, small enough to keep the test quick.
fn photo_pixels() -> image::RgbImage {
    let img = image::load_from_memory(&fixture("bug725582-testrotate.png")).unwrap();
    img.resize(160, 160, image::imageops::FilterType::Triangle).to_rgb8()
}

/// A JPEG with APP1 Exif, APP1 XMP and APP2 ICC_PROFILE segments, as a camera or Photoshop writes them.
fn jpeg_with_metadata() -> Vec<u8> {
    let img = photo_pixels();
    let mut plain = vec![];
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(camera_exif());
    let mut xmp = XMP_NS.to_vec();
    xmp.push(0);
    xmp.extend_from_slice(XMP);
    let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
    icc.extend(fixture("a98.icc"));
    let mut out = plain[..2].to_vec();
    for (marker, payload) in [(0xE1, exif), (0xE1, xmp), (0xE2, icc)] {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        out.extend(payload);
    }
    out.extend_from_slice(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend(crc32(&c[4..]).to_be_bytes());
    c
}

/// A PNG with iCCP (from the encoder), eXIf, an iTXt XMP packet and a tEXt comment.
fn png_with_metadata() -> Vec<u8> {
    let img = photo_pixels();
    let mut plain = vec![];
    let mut enc = image::codecs::png::PngEncoder::new(&mut plain);
    enc.set_icc_profile(fixture("a98.icc")).unwrap();
    enc.write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8).unwrap();
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(XMP);
    // Signature (8) and IHDR (4 + 4 + 13 + 4) come first; ancillary chunks may follow at once.
    let ihdr_end = 8 + 25;
    let mut out = plain[..ihdr_end].to_vec();
    out.extend(png_chunk(b"eXIf", &camera_exif()));
    out.extend(png_chunk(b"iTXt", &itxt));
    out.extend(png_chunk(b"tEXt", b"Comment\0shot at home"));
    out.extend_from_slice(&plain[ihdr_end..]);
    out
}

/// An extended WebP (VP8X) with ICCP (from the encoder), EXIF and XMP chunks, flags set to match.
fn webp_with_metadata() -> Vec<u8> {
    let img = photo_pixels();
    let mut out = vec![];
    let mut enc = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
    enc.set_icc_profile(fixture("a98.icc")).unwrap();
    enc.write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8).unwrap();
    assert_eq!(&out[12..16], b"VP8X", "the encoder writes an extended WebP when given a profile");
    for (fourcc, data) in [(b"EXIF", camera_exif()), (b"XMP ", XMP.to_vec())] {
        out.extend_from_slice(fourcc);
        out.extend(u32::try_from(data.len()).unwrap().to_le_bytes());
        out.extend(&data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
    }
    out[20] |= 0x08 | 0x04; // VP8X flags: EXIF and XMP present.
    let riff_len = u32::try_from(out.len() - 8).unwrap();
    out[4..8].copy_from_slice(&riff_len.to_le_bytes());
    out
}

fn jpeg_app_segments(b: &[u8]) -> Vec<u8> {
    jpeg_segments(b).into_iter().map(|(m, _)| m).filter(|m| (0xE1..=0xEF).contains(m)).collect()
}

/// Every metadata carrier found in `b`: raw markers anywhere, plus the container's own
/// metadata segments or chunks. Empty means clean.
fn metadata_in(b: &[u8]) -> Vec<String> {
    let mut found = vec![];
    for needle in [&b"Exif\0\0"[..], XMP_NS, b"<x:xmpmeta", b"ICC_PROFILE"] {
        if b.windows(needle.len()).any(|w| w == needle) {
            found.push(String::from_utf8_lossy(needle).into_owned());
        }
    }
    match sniff_format(b) {
        Some("jpg") => found.extend(jpeg_app_segments(b).iter().map(|m| format!("APP{}", m - 0xE0))),
        Some("png") => {
            found.extend(png_chunks(b).into_iter().filter(|c| ["eXIf", "iCCP", "iTXt", "zTXt", "tEXt"].contains(&c.as_str())))
        }
        Some("webp") => found.extend(webp_chunks(b).into_iter().filter(|c| ["EXIF", "XMP ", "ICCP"].contains(&c.as_str()))),
        other => panic!("unexpected container {other:?}"),
    }
    found
}

/// Uploads JPEG, PNG and WebP files carrying EXIF, XMP and ICC, and scans what is served (the
/// identity URL included) in every output that could carry them.
#[test]
fn served_bytes_carry_no_metadata() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    let sources = [("jpg", jpeg_with_metadata()), ("png", png_with_metadata()), ("webp", webp_with_metadata())];
    for (src, bytes) in sources {
        // The scanner must see what was put in, or a clean result proves nothing. (PNG and WebP
        // carry EXIF as a bare TIFF block in their own chunk, without JPEG's "Exif\0\0" prefix.)
        let planted = metadata_in(&bytes);
        let expected: &[&str] = match src {
            "jpg" => &["Exif\0\0", "http://ns.adobe.com/xap/1.0/", "<x:xmpmeta", "ICC_PROFILE", "APP1", "APP2"],
            "png" => &["eXIf", "iTXt", "tEXt", "iCCP", "<x:xmpmeta"],
            _ => &["EXIF", "XMP ", "ICCP", "<x:xmpmeta"],
        };
        for marker in expected {
            assert!(planted.iter().any(|m| m == marker), "{src} source lacks {marker:?}: {planted:?}");
        }

        let id = format!("meta-{src}");
        app.upload_ok(&key, bytes, &format!("meta.{src}"), &[("public_id", &id)]);
        let mut paths = vec![(format!("/v1/image/{id}"), src)];
        for f in ["jpg", "png", "webp"] {
            paths.push((format!("/v1/image/f_{f}/{id}"), f));
            paths.push((format!("/v1/image/w_100,f_{f}/{id}"), f));
        }
        for (path, f) in paths {
            let (_, served) = fetch(&app, &path, None);
            assert_eq!(sniff_format(&served), Some(f), "{path}");
            let found = metadata_in(&served);
            assert!(found.is_empty(), "{path} (from a {src} source) still carries {found:?}");
        }
    }
}

#[test]
fn originals_are_served_at_full_size_unless_a_size_is_asked_for() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, quadrants(5120, 2880, ImageFormat::Jpeg), "big.jpg", &[("public_id", "big")]);
    for (path, size, f) in [
        ("/v1/image/big", (5120, 2880), "jpg"),
        ("/v1/image/f_webp/big", (5120, 2880), "webp"),
        ("/v1/image/q_60/big", (5120, 2880), "jpg"),
        ("/v1/image/w_400/big", (400, 225), "jpg"),
        // Asked-for sizes keep the docs' bound: 4000 px a side.
        ("/v1/image/h_2880,c_outside,w_4000/big", (4000, 2250), "jpg"),
    ] {
        let (_, served) = fetch(&app, path, None);
        assert_eq!(sniff_format(&served), Some(f), "{path}");
        let img = decode(&served);
        assert_eq!(img.dimensions(), size, "{path}");
        // The quadrants survive: top-left red, bottom-right white (as `quadrants` paints them).
        assert!(near(img.get_pixel(img.width() / 4, img.height() / 4).0, [255, 0, 0, 255], 40), "{path}");
    }

    // A full-size output too wide for WebP is a clear 400, never a silent downscale; f_auto picks
    // a format that can hold it.
    app.upload_ok(&key, quadrants(17000, 40, ImageFormat::Png), "wide.png", &[("public_id", "wide")]);
    let r = app.client().get(app.url("/v1/image/f_webp/wide")).send().unwrap();
    let msg = assert_error(r, 400);
    assert!(msg.contains("16383") && msg.contains("w_"), "{msg}");
    // The source is an RGBA PNG, so the fallback is PNG (the contract: png when it has alpha).
    let (_, served) = fetch(&app, "/v1/image/f_auto/wide", Some("image/webp,*/*"));
    assert_eq!(sniff_format(&served), Some("png"));
    assert_eq!(decode(&served).dimensions(), (17000, 40));
    let (_, served) = fetch(&app, "/v1/image/f_webp,w_4000/wide", None);
    assert_eq!(decode(&served).dimensions(), (4000, 9));
}
