//! Animated uploads delivered black-box: frame counts and timing read from the served containers, and frame bombs refused at upload.
use image::AnimationDecoder;

use crate::formats::containers::{animation, sniff_format};
use crate::helpers::*;

fn get(app: &TestApp, path: &str, accept: Option<&str>) -> (reqwest::StatusCode, String, Vec<u8>) {
    let mut req = app.client().get(app.url(path));
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let r = req.send().unwrap();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (r.status(), ct, r.bytes().unwrap().to_vec())
}

/// An animated GIF drawn here: `n` frames of `w x h`, frame i solid red when even and blue when
/// odd, each shown (i + 1) x 10 ms, looping forever.
fn stripes_gif(w: u16, h: u16, n: usize) -> Vec<u8> {
    let mut out = vec![];
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut out);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite).unwrap();
        for i in 0..n {
            let c = if i % 2 == 0 { [255, 0, 0, 255] } else { [0, 0, 255, 255] };
            let buf = image::RgbaImage::from_pixel(u32::from(w), u32::from(h), image::Rgba(c));
            let delay = image::Delay::from_numer_denom_ms((i as u32 + 1) * 10, 1);
            enc.encode_frame(image::Frame::from_parts(buf, 0, 0, delay)).unwrap();
        }
    }
    out
}

#[test]
fn animated_gif_is_delivered_animated_where_the_format_allows() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    app.upload_ok(&key, stripes_gif(80, 40, 6), "anim.gif", &[("public_id", "anim")]);
    let delays: Vec<u32> = (1..=6).map(|i| i * 10).collect();

    for (path, accept, format, frames, size) in [
        ("/v1/image/w_50,f_webp/anim", None, "webp", 6, (50, 25)),
        ("/v1/image/f_gif/anim", None, "gif", 6, (80, 40)),
        ("/v1/image/anim", None, "gif", 6, (80, 40)),
        ("/v1/image/w_40,f_auto/anim", Some("image/avif,image/webp,*/*"), "webp", 6, (40, 20)),
        ("/v1/image/w_40,f_auto/anim", Some("*/*"), "gif", 6, (40, 20)),
        ("/v1/image/f_jpg/anim", None, "jpg", 1, (80, 40)),
        ("/v1/image/w_40,f_png/anim", None, "png", 1, (40, 20)),
    ] {
        let (status, ct, body) = get(&app, path, accept);
        assert_eq!(status, 200, "{path}");
        assert_eq!(sniff_format(&body), Some(format), "{path} ({ct})");
        if format != "jpg" {
            let a = animation(&body);
            assert_eq!(a.frames, frames, "{path}");
            if frames > 1 {
                assert_eq!(a.delays_ms, delays, "{path}");
                assert_eq!(a.loop_field, Some(0), "{path}");
            }
        }
        // Pixels: each frame its own colour, at the planned size.
        let colours: Vec<[u8; 4]> = match format {
            "gif" => image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&body)).unwrap().into_frames().collect_frames().unwrap(),
            "webp" => {
                // Transparent disposal, as browsers do (image-webp ignores it without a colour).
                let mut d = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&body)).unwrap();
                d.set_background_color(image::Rgba([0, 0, 0, 0])).unwrap();
                d.into_frames().collect_frames().unwrap()
            }
            _ => vec![image::Frame::new(decode(&body))],
        }
        .iter()
        .map(|f| {
            assert_eq!(f.buffer().dimensions(), size, "{path}");
            f.buffer().get_pixel(size.0 / 2, size.1 / 2).0
        })
        .collect();
        for (i, c) in colours.iter().enumerate() {
            let want = if i % 2 == 0 { [255, 0, 0, 255] } else { [0, 0, 255, 255] };
            assert!(near(*c, want, 24), "{path} frame {i}: {c:?}");
        }
    }
}

#[test]
fn a_thousand_frame_gif_is_refused_at_upload_before_decoding() {
    let app = spawn_app();
    let key = app.api_key(&app.admin());
    // 1,000 1x1 frames whose data is not LZW: a decode of any frame would answer 415 (corrupt),
    // so the 413 below can only come from counting frames in the headers.
    let mut bomb = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
    for _ in 0..1000 {
        bomb.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x03, 0xFF, 0xFF, 0xFF, 0x00]);
    }
    bomb.push(0x3B);
    let r = app.upload(&key, bomb.clone(), "bomb.gif", &[("public_id", "bomb")]);
    let msg = assert_error(r, 413);
    assert!(msg.contains("1000 frames") && msg.contains("500 frames"), "{msg}");
    // The same junk with a few frames is a decode failure: 415.
    let few: Vec<u8> = [&bomb[..13 + 16 * 3], &[0x3B]].concat();
    assert_error(app.upload(&key, few, "junk.gif", &[]), 415);
    // Nothing was stored.
    let (status, _, _) = get(&app, "/v1/image/bomb", None);
    assert_eq!(status, 404);
}

#[test]
fn frame_limits_come_from_config() {
    let app = spawn_app_with(&[("IMGCLOUD_UPLOAD__MAX_FRAMES", "5"), ("IMGCLOUD_UPLOAD__MAX_ANIMATION_PIXELS", "100000")]);
    let key = app.api_key(&app.admin());
    assert_error(app.upload(&key, stripes_gif(10, 10, 6), "six.gif", &[]), 413);
    app.upload_ok(&key, stripes_gif(10, 10, 5), "five.gif", &[("public_id", "five")]);
    // 5 frames of 200x100 are 100,000 pixels: allowed; 5 of 201x100 are not.
    app.upload_ok(&key, stripes_gif(200, 100, 5), "wide.gif", &[]);
    assert_error(app.upload(&key, stripes_gif(201, 100, 5), "wider.gif", &[]), 413);
    // An enlarging animated render over the same budget is the request's fault: 400.
    let (status, _, _) = get(&app, "/v1/image/w_400,h_400,c_fill,f_gif/five", None);
    assert_eq!(status, 400);
    let (status, _, body) = get(&app, "/v1/image/w_100,h_100,c_fill,f_gif/five", None);
    assert_eq!((status.as_u16(), animation(&body).frames), (200, 5));
}
