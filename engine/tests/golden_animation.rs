//! Golden tests of animated renders on Pillow's animated GIF, WebP and APNG test files: frame counts, delays, loop counts and per-frame pixels.
//! Fixtures come from scripts/fetch-fixtures.sh; a missing fixture fails, it never skips. Expected
//! colours at known points are Pillow 13's readings of the same frames; frame structure is read
//! from the output container by tests/support/containers.rs, never from the engine.

mod fixtures;

use std::io::Cursor;

use fixtures::*;
use image::{AnimationDecoder, RgbaImage};
use imgcloud_engine::{probe, render, AnimationLimits, AutoFormat, EngineError, Limits, OutputFormat, RenderOptions, Rendered, Transform};

fn run_with(bytes: &[u8], t: &str, opts: &RenderOptions) -> Rendered {
    let t = Transform::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
    render(bytes, &t, opts).unwrap_or_else(|e| panic!("render {t:?}: {e}"))
}

fn run(bytes: &[u8], t: &str) -> Rendered {
    run_with(bytes, t, &RenderOptions::default())
}

/// Every frame of an animated GIF, WebP or APNG, composed by the `image` crate.
fn frames_of(bytes: &[u8]) -> Vec<(RgbaImage, u32)> {
    let frames = match sniff_format(bytes) {
        Some("gif") => image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).unwrap().into_frames(),
        Some("webp") => {
            // Transparent disposal, as browsers do (image-webp ignores it without a colour).
            let mut d = image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).unwrap();
            d.set_background_color(image::Rgba([0, 0, 0, 0])).unwrap();
            d.into_frames()
        }
        Some("png") => image::codecs::png::PngDecoder::new(Cursor::new(bytes)).unwrap().apng().unwrap().into_frames(),
        other => panic!("not an animation: {other:?}"),
    };
    frames
        .collect_frames()
        .unwrap()
        .into_iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            (f.into_buffer(), (n + d / 2) / d)
        })
        .collect()
}

fn rgba_near(a: [u8; 4], b: [u8; 4], tol: u8) -> bool {
    if a[3] == 0 || b[3] == 0 {
        return a[3] == b[3];
    }
    (0..4).all(|k| a[k].abs_diff(b[k]) <= tol)
}

/// iss634 (245x245, 42 frames, loop forever): delays as Pillow reads them.
fn iss634_delays() -> Vec<u32> {
    animation(&fixture("iss634.gif")).delays_ms
}

#[test]
fn animated_sources_report_frames_and_plays() {
    let facts = |name: &str| {
        let i = probe(&fixture(name)).unwrap();
        (i.width, i.height, i.frames, i.plays)
    };
    assert_eq!(facts("iss634.gif"), (245, 245, 42, 0));
    assert_eq!(facts("iss634.webp"), (245, 245, 42, 0));
    assert_eq!(facts("dispose_bgnd_transparency.gif"), (38, 32, 10, 0));
    // NETSCAPE repeat 2: three plays.
    assert_eq!(facts("duplicate_number_of_loops.gif"), (1, 1, 2, 3));
    // acTL counts the animation's frames; the default image before the first fcTL is not one.
    assert_eq!(facts("apng/delay.png"), (128, 64, 4, 0));
    assert_eq!(facts("apng/num_plays_1.png"), (128, 64, 2, 1));
    assert_eq!(facts("hopper.gif").2, 1);
}

#[test]
fn gif_to_webp_resized_keeps_every_frame_delay_and_the_loop() {
    let src = fixture("iss634.gif");
    let r = run(&src, "w_100,f_webp");
    assert_eq!((r.format, r.width, r.height), (OutputFormat::Webp, 100, 100));
    assert_eq!(sniff_format(&r.bytes), Some("webp"));
    let a = animation(&r.bytes);
    assert_eq!(a.frames, 42);
    assert_eq!(a.delays_ms, iss634_delays());
    assert_eq!(a.loop_field, Some(0));

    // Every frame against the source frame resized by the image crate, and Pillow's mean colours of
    // 13x13 patches at the quarter points (61, 122, 183 in the source; 5x5 at 25, 50, 75 here).
    let out = frames_of(&r.bytes);
    let reference = frames_of(&src);
    assert_eq!(out.len(), reference.len());
    for (i, ((o, _), (s, _))) in out.iter().zip(&reference).enumerate() {
        let want = image::imageops::resize(s, 100, 100, image::imageops::FilterType::Triangle);
        let (o, want) = (image::DynamicImage::ImageRgba8(o.clone()).to_rgb8(), image::DynamicImage::ImageRgba8(want).to_rgb8());
        let d = mean_abs_diff(&o, &want);
        assert!(d < 6.0, "frame {i} differs from its source frame by {d}");
    }
    for (frame, centre) in [(0, [66.9, 116.9, 121.3]), (20, [66.9, 115.8, 120.0]), (41, [67.1, 115.0, 118.0])] {
        let rgb = image::DynamicImage::ImageRgba8(out[frame].0.clone()).to_rgb8();
        for ((x, y), want) in [((50, 50), centre), ((75, 75), [228.8, 175.6, 104.8]), ((25, 25), [11.7, 97.7, 82.1])] {
            let gap = max_channel_gap(patch_mean(&rgb, x, y, 5), want);
            assert!(gap < 10.0, "frame {frame} at ({x}, {y}) off by {gap}");
        }
    }
}

#[test]
fn identity_on_an_animated_gif_is_an_animated_gif_with_exact_frames() {
    let src = fixture("dispose_bgnd_transparency.gif");
    let r = run(&src, "");
    assert_eq!((r.format, r.width, r.height), (OutputFormat::Gif, 38, 32));
    let a = animation(&r.bytes);
    assert_eq!(a.frames, 10);
    assert_eq!(a.delays_ms, vec![2000, 200, 200, 500, 100, 500, 100, 500, 100, 200]);
    assert_eq!(a.loop_field, Some(0));
    // Pillow's RGBA at (9, 8), (19, 16) and (28, 24) of each frame; each frame has few colours, so
    // the palette is exact and transparency stays transparent.
    let pillow: [[[u8; 4]; 3]; 10] = [
        [[234, 188, 48, 255], [239, 186, 25, 255], [0, 0, 0, 0]],
        [[234, 188, 48, 255], [239, 186, 25, 255], [122, 92, 0, 255]],
        [[234, 188, 48, 255], [239, 186, 25, 255], [214, 160, 0, 255]],
        [[234, 188, 48, 255], [239, 186, 25, 255], [0, 0, 0, 0]],
        [[234, 188, 48, 255], [239, 186, 25, 255], [214, 160, 0, 255]],
        [[234, 188, 48, 255], [37, 29, 7, 255], [0, 0, 0, 0]],
        [[234, 188, 48, 255], [239, 186, 25, 255], [214, 160, 0, 255]],
        [[234, 188, 48, 255], [239, 186, 25, 255], [55, 42, 1, 255]],
        [[234, 188, 48, 255], [239, 186, 25, 255], [214, 160, 0, 255]],
        [[234, 188, 48, 255], [239, 186, 25, 255], [122, 92, 0, 255]],
    ];
    let out = frames_of(&r.bytes);
    assert_eq!(out.len(), 10);
    for (i, ((img, _), want)) in out.iter().zip(pillow).enumerate() {
        for ((x, y), w) in [(9, 8), (19, 16), (28, 24)].into_iter().zip(want) {
            let got = img.get_pixel(x, y).0;
            assert!(rgba_near(got, w, 0), "frame {i} at ({x}, {y}): {got:?}, Pillow {w:?}");
        }
    }
}

#[test]
fn apng_becomes_animated_gif_and_webp_and_its_first_frame_in_still_formats() {
    let src = fixture("apng/delay.png");
    // The animation: blue, yellow, blue, yellow for 500/1000/500/1000 ms (fcTL fractions 50/100,
    // 100/100, 10000/20000, 1/1), forever. The red default image is not part of it.
    let colours = [[0, 0, 255, 255], [255, 255, 0, 255], [0, 0, 255, 255], [255, 255, 0, 255]];
    for (f, tol) in [("gif", 0), ("webp", 12)] {
        let r = run(&src, &format!("w_64,f_{f}"));
        assert_eq!((r.width, r.height), (64, 32), "{f}");
        let a = animation(&r.bytes);
        assert_eq!((a.frames, a.delays_ms.clone(), a.loop_field), (4, vec![500, 1000, 500, 1000], Some(0)), "{f}");
        for (i, ((img, _), want)) in frames_of(&r.bytes).iter().zip(colours).enumerate() {
            for (x, y) in [(5, 5), (32, 16), (60, 28)] {
                let got = img.get_pixel(x, y).0;
                assert!(rgba_near(got, want, tol), "{f} frame {i}: {got:?}, want {want:?}");
            }
        }
    }
    // Still formats: the first frame as Pillow and browsers without APNG show it, the default image.
    for f in ["png", "jpg"] {
        let r = run(&src, &format!("f_{f}"));
        assert_eq!(animation_or_still(&r.bytes), 1, "{f}");
        let px = decode(&r.bytes).to_rgb8().get_pixel(64, 32).0;
        assert!(px[0] > 240 && px[1] < 15 && px[2] < 15, "{f}: {px:?}");
    }
}

fn animation_or_still(b: &[u8]) -> usize {
    match sniff_format(b) {
        Some("jpg") => 1,
        _ => animation(b).frames,
    }
}

#[test]
fn loop_counts_carry_over_in_each_formats_convention() {
    // APNG num_plays 1: GIF without a NETSCAPE block (plays once), WebP loop count 1.
    let once = fixture("apng/num_plays_1.png");
    assert_eq!(animation(&run(&once, "f_gif").bytes).loop_field, None);
    assert_eq!(animation(&run(&once, "f_webp").bytes).loop_field, Some(1));
    // GIF NETSCAPE repeat 2 (three plays, as browsers and gif2webp read it): repeat 2 again, WebP 3.
    let thrice = fixture("duplicate_number_of_loops.gif");
    assert_eq!(animation(&run(&thrice, "f_gif").bytes).loop_field, Some(2));
    assert_eq!(animation(&run(&thrice, "f_webp").bytes).loop_field, Some(3));
    // WebP to GIF: forever stays forever, delays in whole centiseconds (all of iss634's are).
    let r = run(&fixture("iss634.webp"), "w_50,f_gif");
    let a = animation(&r.bytes);
    assert_eq!((a.frames, a.loop_field), (42, Some(0)));
    assert_eq!(a.delays_ms, iss634_delays());
}

#[test]
fn still_formats_get_the_first_frame() {
    let src = fixture("iss634.gif");
    let frames = frames_of(&src);
    let rgb = |i: usize| image::DynamicImage::ImageRgba8(frames[i].0.clone()).to_rgb8();
    for f in ["jpg", "png", "avif"] {
        let r = run(&src, &format!("f_{f}"));
        assert_eq!(sniff_format(&r.bytes), Some(f));
        match f {
            // Lossless: exactly frame 0, and not frame 21 (mean 3 levels apart).
            "png" => {
                assert_eq!(animation(&r.bytes).frames, 1);
                let out = decode(&r.bytes).to_rgb8();
                assert!(mean_abs_diff(&out, &rgb(0)) < 0.01);
                assert!(mean_abs_diff(&out, &rgb(21)) > 2.0);
            }
            "jpg" => {
                let d = mean_abs_diff(&decode(&r.bytes).to_rgb8(), &rgb(0));
                assert!(d < 6.0, "f_jpg differs from frame 0 by {d}");
            }
            _ => assert_eq!(avif_size(&r.bytes), (245, 245)),
        }
    }
    // 16-bit APNG: the image crate composes 8-bit frames only, so it renders its first frame.
    let r = run(&fixture("apng/mode_16bit.png"), "f_gif");
    assert_eq!(animation(&r.bytes).frames, 1);
}

#[test]
fn f_auto_on_an_animation_picks_a_format_that_animates() {
    let src = fixture("iss634.gif");
    let total: u32 = iss634_delays().iter().sum();
    for (accept, f) in [("image/avif,image/webp,*/*", "webp"), ("image/webp,*/*", "webp"), ("*/*", "gif")] {
        let opts = RenderOptions { auto: AutoFormat::from_accept(Some(accept)), ..RenderOptions::default() };
        let r = run_with(&src, "w_60,f_auto", &opts);
        assert_eq!(sniff_format(&r.bytes), Some(f), "{accept}");
        let a = animation(&r.bytes);
        // At 60 px two neighbouring frames come out identical and libwebp folds the second into
        // the first's time: fewer WebP frames, the same total duration. GIF keeps every frame.
        match f {
            "gif" => assert_eq!(a.frames, 42),
            _ => assert!((38..=42).contains(&a.frames), "{accept}: {} frames", a.frames),
        }
        assert_eq!(a.delays_ms.iter().sum::<u32>(), total, "{accept}");
    }
}

#[test]
fn every_step_applies_to_every_frame() {
    // fill, rotation, greyscale and a letterbox on the APNG: every frame has the planned size and
    // its own colour, greyed.
    let src = fixture("apng/delay.png");
    let r = run(&src, "w_40,h_40,c_contain,bg_ff0000,r_90,gr_1,f_gif");
    assert_eq!((r.width, r.height), (40, 40));
    let frames = frames_of(&r.bytes);
    assert_eq!(frames.len(), 4);
    for (i, (img, _)) in frames.iter().enumerate() {
        assert_eq!(img.dimensions(), (40, 40));
        let p = img.get_pixel(20, 20).0;
        assert!(p[0] == p[1] && p[1] == p[2], "frame {i} is grey: {p:?}");
        // Blue is darker than yellow in grey.
        let want_dark = i % 2 == 0;
        assert_eq!(p[0] < 128, want_dark, "frame {i}: {p:?}");
        // Rotated a quarter turn, the 2:1 image stands 20 wide in the 40 box: the bars are the
        // background, left and right, greyed like the rest (Rec. 709 luma of red: 54).
        let bar = img.get_pixel(2, 20).0;
        assert!(bar[0].abs_diff(54) < 6, "frame {i} bar: {bar:?}");
    }
}

#[test]
fn a_frame_bomb_is_refused_before_any_decode() {
    // 1,000 frames whose image data is not LZW at all: decoding any of them would be `Corrupt`, so
    // `TooManyFrames` can only have come from the header walk.
    let mut b = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
    for _ in 0..1000 {
        b.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x03, 0xFF, 0xFF, 0xFF, 0x00]);
    }
    b.push(0x3B);
    let t = Transform::parse("w_10,f_webp").unwrap();
    for e in [probe(&b).unwrap_err(), render(&b, &t, &RenderOptions::default()).unwrap_err()] {
        assert!(matches!(e, EngineError::TooManyFrames { frames: 1000, max_frames: 500, .. }), "{e:?}");
    }
    // Under the limit the same junk is a decode error: the refusal above was not one.
    let opts = RenderOptions {
        limits: Limits { animation: AnimationLimits { max_frames: 1000, max_pixels: 1 << 30 }, ..Limits::default() },
        ..RenderOptions::default()
    };
    assert!(matches!(render(&b, &t, &opts), Err(EngineError::Corrupt(_))));
}

#[test]
fn an_enlarging_transform_is_held_to_the_animation_budget() {
    let src = fixture("iss634.gif");
    let opts = RenderOptions {
        limits: Limits { animation: AnimationLimits { max_frames: 500, max_pixels: 10_000_000 }, ..Limits::default() },
        ..RenderOptions::default()
    };
    // 42 frames of 245x245 (2.5 MP) are within 10 MP; 42 frames of 1000x1000 are not.
    assert_eq!(animation(&run_with(&src, "w_100,f_gif", &opts).bytes).frames, 42);
    let t = Transform::parse("w_1000,h_1000,c_fill,f_gif").unwrap();
    assert!(matches!(render(&src, &t, &opts), Err(EngineError::PixelBudget(10_000_000))));
    // A still format needs one frame only.
    assert!(render(&src, &Transform::parse("w_1000,h_1000,c_fill,f_png").unwrap(), &opts).is_ok());
}
