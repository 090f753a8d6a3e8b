//! The generator of the hand-made AVIF container bombs checked in under fuzz/seeds/avif/ (iloc extents, zero-width fields, huge and repeated grids, lying `ispe`, `dimg` chains).
//!
//! Every file is a valid ISO-BMFF layout with item data in `idat` (construction method 1), so
//! nothing depends on file offsets; the AV1 payloads are real frames coded by ravif, so a reader
//! that trusted the container would really decode them. `engine/tests/avif_bombs.rs` checks that
//! the checked-in bytes are what this makes (IMGCLOUD_WRITE_SEEDS=1 rewrites them).
#![allow(dead_code)]

/// What the engine must answer for a seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `EngineError::TooComplex`: over a container cap (413 at upload).
    TooComplex,
    /// `EngineError::Corrupt`: the container contradicts itself or its frames (415 at upload).
    Corrupt,
}

pub struct Seed {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub refusal: Refusal,
}

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    [&((body.len() + 8) as u32).to_be_bytes()[..], kind, body].concat()
}

fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    bx(kind, &[&[version, 0, 0, 0][..], body].concat())
}

fn be16(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

pub fn ispe(w: u32, h: u32) -> Vec<u8> {
    full(b"ispe", 0, &[w.to_be_bytes(), h.to_be_bytes()].concat())
}

/// The boxes of a still AVIF whose items live in `idat`.
#[derive(Default)]
pub struct Avif {
    pub primary: u16,
    pub items: Vec<(u16, [u8; 4])>,
    /// `ipco` children; associations name them 1-based.
    pub props: Vec<Vec<u8>>,
    pub assoc: Vec<(u16, Vec<u8>)>,
    pub refs: Vec<([u8; 4], u16, Vec<u16>)>,
    pub idat: Vec<u8>,
    /// (item, offset in idat, length): one extent each.
    pub locs: Vec<(u16, u32, u32)>,
    /// A hand-made `iloc` box (whole, header included) instead of one made from `locs`.
    pub iloc: Option<Vec<u8>>,
}

impl Avif {
    /// Appends `data` to `idat` and returns its (offset, length).
    pub fn put(&mut self, data: &[u8]) -> (u32, u32) {
        let at = self.idat.len() as u32;
        self.idat.extend_from_slice(data);
        (at, data.len() as u32)
    }

    pub fn bytes(&self) -> Vec<u8> {
        let ftyp = bx(b"ftyp", &[&b"avif"[..], &[0, 0, 0, 0], b"avif", b"mif1", b"miaf"].concat());
        let hdlr = full(b"hdlr", 0, &[&[0u8; 4][..], b"pict", &[0; 12], b"\0"].concat());
        let pitm = full(b"pitm", 0, &self.primary.to_be_bytes());
        let mut iinf = (self.items.len() as u16).to_be_bytes().to_vec();
        for (id, kind) in &self.items {
            iinf.extend(full(b"infe", 2, &[&id.to_be_bytes()[..], &[0, 0], kind, b"\0"].concat()));
        }
        let iref: Vec<u8> = self.refs.iter().flat_map(|(kind, from, to)| bx(kind, &be16(&[&[*from, to.len() as u16][..], to].concat()))).collect();
        let mut ipma = (self.assoc.len() as u32).to_be_bytes().to_vec();
        for (id, indices) in &self.assoc {
            ipma.extend_from_slice(&id.to_be_bytes());
            ipma.push(indices.len() as u8);
            ipma.extend_from_slice(indices);
        }
        let iprp = bx(b"iprp", &[bx(b"ipco", &self.props.concat()), full(b"ipma", 0, &ipma)].concat());
        let iloc = self.iloc.clone().unwrap_or_else(|| {
            let mut b = vec![0x44, 0x00];
            b.extend_from_slice(&(self.locs.len() as u16).to_be_bytes());
            for (id, offset, length) in &self.locs {
                b.extend(be16(&[*id, 1, 0, 1]));
                b.extend_from_slice(&offset.to_be_bytes());
                b.extend_from_slice(&length.to_be_bytes());
            }
            full(b"iloc", 1, &b)
        });
        let meta = full(
            b"meta",
            0,
            &[hdlr, pitm, full(b"iinf", 0, &iinf), full(b"iref", 0, &iref), iprp, iloc, bx(b"idat", &self.idat)].concat(),
        );
        [ftyp, meta].concat()
    }
}

/// A flat grey `w x h` frame coded by ravif: the OBUs of its only item (the body of its `mdat`,
/// which holds nothing else when there is no alpha).
pub fn av1_frame(w: usize, h: usize) -> Vec<u8> {
    let px = vec![ravif::RGB8::new(120, 120, 120); w * h];
    let file = ravif::Encoder::new()
        .with_quality(50.0)
        .with_speed(10)
        .with_bit_depth(ravif::BitDepth::Eight)
        .with_num_threads(Some(1))
        .encode_rgb(ravif::Img::new(&px[..], w, h))
        .expect("ravif encodes a flat frame")
        .avif_file;
    let at = file.windows(4).position(|w| w == b"mdat").expect("ravif writes an mdat") - 4;
    let size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    file[at + 8..at + size].to_vec()
}

/// One coded item (id 1, `ispe` as given) with `frame` as its data.
fn single(ispe_size: (u32, u32), frame: &[u8]) -> Avif {
    let mut a = Avif { primary: 1, items: vec![(1, *b"av01")], props: vec![ispe(ispe_size.0, ispe_size.1)], assoc: vec![(1, vec![1])], ..Avif::default() };
    let (o, l) = a.put(frame);
    a.locs.push((1, o, l));
    a
}

/// A grid item 1 of `rows x cols` over `tiles` (their ids), output `w x h`; tiles are `av01`
/// items with `ispe` `tile` and data `frame`. Several tile ids may share one item: `distinct`
/// says how many items exist (ids 2..).
fn grid(rows: u32, cols: u32, (w, h): (u32, u32), tiles: Vec<u16>, distinct: u16, tile: (u32, u32), frame: &[u8]) -> Avif {
    let mut a = Avif { primary: 1, items: vec![(1, *b"grid")], props: vec![ispe(w, h), ispe(tile.0, tile.1)], ..Avif::default() };
    let wide = w > 0xffff || h > 0xffff;
    let mut desc = vec![0, u8::from(wide), (rows - 1) as u8, (cols - 1) as u8];
    if wide {
        desc.extend_from_slice(&[w.to_be_bytes(), h.to_be_bytes()].concat());
    } else {
        desc.extend(be16(&[w as u16, h as u16]));
    }
    let (o, l) = a.put(&desc);
    a.locs.push((1, o, l));
    a.assoc.push((1, vec![1]));
    let (fo, fl) = a.put(frame);
    for id in 2..2 + distinct {
        a.items.push((id, *b"av01"));
        a.assoc.push((id, vec![2]));
        // Distinct items, one shared payload.
        a.locs.push((id, fo, fl));
    }
    a.refs.push((*b"dimg", 1, tiles));
    a
}

/// An `iloc` box (version 0) of `locations` entries of `extents` extents each, with the given
/// offset/length field sizes (bytes) and every offset and length 0.
fn iloc_bomb(locations: u16, extents: u16, field: u8) -> Vec<u8> {
    let mut b = vec![(field << 4) | field, 0x00];
    b.extend_from_slice(&locations.to_be_bytes());
    for id in 1..=locations {
        b.extend(be16(&[id, 0, extents]));
        b.resize(b.len() + usize::from(extents) * 2 * usize::from(field), 0);
    }
    full(b"iloc", 0, &b)
}

/// Every seed's file name and the refusal it must get, in the order `seeds` makes them.
pub const SEEDS: [(&str, Refusal); 12] = [
    ("iloc-extents-1gb.avif", Refusal::TooComplex),
    ("iloc-extents-64gib.avif", Refusal::TooComplex),
    ("iloc-extents-paid.avif", Refusal::TooComplex),
    ("iloc-zero-width-fields.avif", Refusal::Corrupt),
    ("iloc-count-past-box.avif", Refusal::Corrupt),
    ("grid-1x100-one-tile.avif", Refusal::Corrupt),
    ("grid-255x256-one-item.avif", Refusal::TooComplex),
    ("grid-40x40-distinct.avif", Refusal::TooComplex),
    ("grid-not-covering.avif", Refusal::Corrupt),
    ("grid-tile-ispe-lie.avif", Refusal::Corrupt),
    ("ispe-lie-1x1.avif", Refusal::Corrupt),
    ("dimg-chain.avif", Refusal::Corrupt),
];

/// Every seed, made from scratch.
pub fn seeds() -> Vec<Seed> {
    let big = av1_frame(2048, 2048);
    let small = av1_frame(16, 16);
    let mut out = Vec::new();
    let mut add = |name: &'static str, a: &Avif, refusal| out.push(Seed { name, bytes: a.bytes(), refusal });

    // 1. iloc: 1,000 locations x 65,535 extents with zero-width fields: 8 KB of input, 1 GB of
    // extents for a reader that trusts the count.
    let mut a = single((16, 16), &small);
    a.iloc = Some(iloc_bomb(1000, u16::MAX, 0));
    add("iloc-extents-1gb.avif", &a, Refusal::TooComplex);
    // 2. The same at the format's maximum: 65,535 x 65,535 (393 KB, 64 GiB).
    a.iloc = Some(iloc_bomb(u16::MAX, u16::MAX, 0));
    add("iloc-extents-64gib.avif", &a, Refusal::TooComplex);
    // 3. Paid-for extents (4-byte fields), still over the cap: 4,096 extents of one item.
    a.iloc = Some(iloc_bomb(1, 4096, 4));
    add("iloc-extents-paid.avif", &a, Refusal::TooComplex);
    // 4. Zero-width fields under the cap: 8 extents that each repeat "all of idat" for free.
    a.iloc = Some(iloc_bomb(1, 8, 0));
    add("iloc-zero-width-fields.avif", &a, Refusal::Corrupt);
    // 5. A location count the box cannot hold (version 2, 2^32 - 1 entries in 6 bytes).
    let mut b = vec![0x44, 0x00];
    b.extend_from_slice(&u32::MAX.to_be_bytes());
    b.extend_from_slice(&[0; 6]);
    a.iloc = Some(full(b"iloc", 2, &b));
    add("iloc-count-past-box.avif", &a, Refusal::Corrupt);

    // 6. A 1x100 grid whose tiles are all one 2048x2048 item, output 1x1.
    add("grid-1x100-one-tile.avif", &grid(100, 1, (1, 1), vec![2; 100], 1, (2048, 2048), &big), Refusal::Corrupt);
    // 7. 255x256 tiles, every one the same small item.
    add("grid-255x256-one-item.avif", &grid(255, 256, (16 * 256, 16 * 255), vec![2; 255 * 256], 1, (16, 16), &small), Refusal::TooComplex);
    // 8. 40x40 distinct tiles (sharing one payload): over the tile cap.
    add("grid-40x40-distinct.avif", &grid(40, 40, (640, 640), (2..2 + 1600).collect(), 1600, (16, 16), &small), Refusal::TooComplex);
    // 9. 2x2 tiles of 2048x2048 cropped to 1x1: the tiles do not cover the output exactly.
    add("grid-not-covering.avif", &grid(2, 2, (1, 1), vec![2, 3, 4, 5], 4, (2048, 2048), &big), Refusal::Corrupt);
    // 10. Tiles whose ispe says 16x16 carry 2048x2048 frames.
    add("grid-tile-ispe-lie.avif", &grid(1, 2, (32, 16), vec![2, 3], 2, (16, 16), &big), Refusal::Corrupt);
    // 11. A primary item claiming 1x1 that carries a 2048x2048 frame.
    add("ispe-lie-1x1.avif", &single((1, 1), &big), Refusal::Corrupt);
    // 12. A dimg chain: grid 1 -> grid 2 -> ... -> grid 40 -> one coded tile.
    let mut a = Avif { primary: 1, props: vec![ispe(16, 16)], ..Avif::default() };
    let (o, l) = a.put(&[0, 0, 0, 0, 0, 16, 0, 16]);
    for id in 1..=40u16 {
        a.items.push((id, *b"grid"));
        a.assoc.push((id, vec![1]));
        a.locs.push((id, o, l));
        a.refs.push((*b"dimg", id, vec![id + 1]));
    }
    let (fo, fl) = a.put(&small);
    a.items.push((41, *b"av01"));
    a.assoc.push((41, vec![1]));
    a.locs.push((41, fo, fl));
    add("dimg-chain.avif", &a, Refusal::Corrupt);
    out
}
