//! The HEIF/ISO-BMFF item layer of an AVIF file, read by hand: items, their properties, references and bytes.
//!
//! Like the rest of `sniff`, every offset is bounds-checked and every count is paid for by bytes
//! of input, so a hostile file costs work in proportion to its size and never a large allocation:
//! a count is checked against the bytes left in its own box before anything is read or kept, item
//! locations are kept only for the items a decode can read, and grids are held to the container
//! rules below (docs/decisions.md "AVIF container rules"). Nothing here is AV1-specific, so the
//! same reader can serve HEIC.
//! `avif-parse` was not used because it refuses grid images and `idat` data (what phones write)
//! and does not expose `irot`/`imir`/`colr`/`ispe`.

use std::borrow::Cow;

use crate::EngineError;

pub(crate) type FourCc = [u8; 4];

/// The auxiliary type URNs that mark an alpha plane (MIAF's and the older HEVC one libheif writes).
const ALPHA_URNS: [&[u8]; 2] = [b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1"];

fn corrupt(what: &str) -> EngineError {
    EngineError::Corrupt(format!("AVIF: {what}"))
}

fn unsupported(what: &str) -> EngineError {
    EngineError::Unsupported(format!("AVIF: {what}"))
}

fn too_complex(what: String) -> EngineError {
    EngineError::TooComplex(format!("AVIF: {what}"))
}

/// Most extents one item's data may be split into. Encoders write one (libavif, libheif) or a
/// few (a muxer splitting `mdat`); each extent is a separate slice joined at read time.
pub(crate) const MAX_EXTENTS_PER_ITEM: usize = 32;

/// Most tiles in a grid: 16x12 512-px tiles make a 48 MP phone photo, and 1024 tiles of 512 px
/// reach 268 MP, past the input cap. Each tile costs a decoder start, whatever its size.
pub(crate) const MAX_GRID_TILES: usize = 1024;

/// Item types that are derived from other items rather than coded: never a grid's tile, so a
/// `dimg` chain is one level deep.
const DERIVED_TYPES: [&FourCc; 3] = [b"grid", b"iovl", b"iden"];

/// A byte reader over one box body; every read is checked.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], EngineError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len()).ok_or_else(|| corrupt("box is truncated"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, EngineError> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, EngineError> {
        let s = self.bytes(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, EngineError> {
        let s = self.bytes(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    /// An unsigned integer of 0, 1, 2, 4 or 8 bytes (iloc's and grid's variable-size fields).
    fn uint(&mut self, size: usize) -> Result<u64, EngineError> {
        Ok(match size {
            0 => 0,
            1 => self.u8()?.into(),
            2 => self.u16()?.into(),
            4 => self.u32()?.into(),
            8 => u64::from_be_bytes(self.bytes(8)?.try_into().map_err(|_| corrupt("box is truncated"))?),
            _ => return Err(corrupt("invalid field size")),
        })
    }
    fn fourcc(&mut self) -> Result<FourCc, EngineError> {
        Ok(self.bytes(4)?.try_into().map_err(|_| corrupt("box is truncated"))?)
    }
    /// FullBox header: (version, flags).
    fn full(&mut self) -> Result<(u8, u32), EngineError> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }
    fn left(&self) -> usize {
        self.b.len() - self.at
    }
    /// Refuses a `count` of records of at least `each` bytes that the rest of the box cannot hold,
    /// before a loop or an allocation trusts it. (Records of no bytes are bounded by their caller.)
    fn holds(&self, count: u64, each: usize, what: &str) -> Result<(), EngineError> {
        if count.saturating_mul(each as u64) > self.left() as u64 {
            return Err(corrupt(&format!("{what} declares more entries than its box holds")));
        }
        Ok(())
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.at..];
        self.at = self.b.len();
        s
    }
}

/// Iterates the boxes laid end to end in `b`: (type, body, offset of the body within `b`).
fn boxes(b: &[u8]) -> impl Iterator<Item = Result<(FourCc, &[u8], usize), EngineError>> {
    let mut at = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || at >= b.len() {
            return None;
        }
        let item = (|| {
            let mut r = Reader::new(&b[at..]);
            let size32 = r.u32()?;
            let kind = r.fourcc()?;
            let size = match size32 {
                0 => (b.len() - at) as u64,
                1 => r.uint(8)?,
                n => u64::from(n),
            };
            if &kind == b"uuid" {
                r.bytes(16)?;
            }
            let header = r.at;
            let size = usize::try_from(size).map_err(|_| corrupt("box is larger than the file"))?;
            if size < header || size > b.len() - at {
                return Err(corrupt("box size is out of bounds"));
            }
            let body = (&b[at + header..at + size], at + header);
            at += size;
            Ok((kind, body.0, body.1))
        })();
        failed = item.is_err();
        Some(item)
    })
}

/// The colour signal of an item: CICP code points from an `nclx` `colr` box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Nclx {
    pub primaries: u16,
    pub transfer: u16,
    pub matrix: u16,
    pub full_range: bool,
}

#[derive(Debug, Clone)]
enum Property<'a> {
    Ispe { width: u32, height: u32 },
    /// Anticlockwise rotation in quarter turns.
    Irot(u8),
    /// 0: top and bottom exchanged; 1: left and right exchanged (ISO/IEC 23008-12:2022 6.5.12).
    Imir(u8),
    Nclx(Nclx),
    Icc(&'a [u8]),
    AuxType(&'a [u8]),
    Other,
}

struct Location {
    item_id: u32,
    construction_method: u8,
    data_reference_index: u16,
    base_offset: u64,
    /// (offset, length); a length of 0 means "to the end of the source".
    extents: Vec<(u64, u64)>,
}

struct Reference {
    kind: FourCc,
    from: u32,
    to: Vec<u32>,
}

/// A grid derived image: `rows x columns` tiles of equal size, cropped to the output size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grid {
    pub rows: u32,
    pub columns: u32,
    pub width: u32,
    pub height: u32,
    /// Every tile's size (its `ispe`).
    pub tile: (u32, u32),
    /// Tile item ids, row by row.
    pub tiles: Vec<u32>,
}

/// A parsed AVIF file: its still-image items (the `meta` box). Sequences (`moov`) are not read.
pub(crate) struct Heif<'a> {
    file: &'a [u8],
    idat: &'a [u8],
    pub primary: u32,
    items: Vec<(u32, FourCc)>,
    properties: Vec<Property<'a>>,
    /// (item id, 1-based property index), by item id, each item's in association order.
    associations: Vec<(u32, u16)>,
    references: Vec<Reference>,
    locations: Vec<Location>,
}

impl<'a> Heif<'a> {
    pub fn parse(file: &'a [u8]) -> Result<Self, EngineError> {
        let mut meta = None;
        let mut sequence = false;
        for b in boxes(file) {
            let (kind, body, _) = b?;
            match &kind {
                b"ftyp" => sequence = body.chunks_exact(4).any(|brand| brand == b"avis"),
                b"meta" if meta.is_some() => return Err(corrupt("more than one meta box")),
                b"meta" => meta = Some(body),
                _ => {}
            }
        }
        let Some(meta) = meta else {
            return Err(if sequence {
                unsupported("image sequences without a still image are not supported")
            } else {
                corrupt("no meta box")
            });
        };
        let mut r = Reader::new(meta);
        r.full()?;
        let mut heif = Heif {
            file,
            idat: &[],
            primary: 0,
            items: Vec::new(),
            properties: Vec::new(),
            associations: Vec::new(),
            references: Vec::new(),
            locations: Vec::new(),
        };
        // Bodies first, read in dependency order after: the locations kept depend on the primary
        // item and the references, which may come after `iloc`.
        let (mut pitm, mut iinf, mut iloc, mut iref, mut iprp) = (None, None, None, None, None);
        for b in boxes(r.rest()) {
            let (kind, body, _) = b?;
            let slot = match &kind {
                b"hdlr" => {
                    let mut r = Reader::new(body);
                    r.full()?;
                    r.u32()?;
                    if &r.fourcc()? != b"pict" {
                        return Err(unsupported("the meta box does not describe pictures"));
                    }
                    continue;
                }
                b"idat" => {
                    heif.idat = body;
                    continue;
                }
                b"pitm" => &mut pitm,
                b"iinf" => &mut iinf,
                b"iloc" => &mut iloc,
                b"iref" => &mut iref,
                b"iprp" => &mut iprp,
                _ => continue,
            };
            if slot.replace(body).is_some() {
                return Err(corrupt(&format!("more than one {} box", String::from_utf8_lossy(&kind))));
            }
        }
        let mut r = Reader::new(pitm.ok_or_else(|| corrupt("no primary item"))?);
        let (v, _) = r.full()?;
        heif.primary = if v == 0 { r.u16()?.into() } else { r.u32()? };
        if let Some(body) = iinf {
            heif.items = read_iinf(body)?;
        }
        if let Some(body) = iref {
            heif.references = read_iref(body)?;
        }
        if let Some(body) = iprp {
            read_iprp(body, &mut heif.properties, &mut heif.associations)?;
            if heif.associations.iter().any(|(_, i)| usize::from(*i) > heif.properties.len()) {
                return Err(corrupt("a property association points past the ipco box"));
            }
            // Stable: each item's properties keep their order, and `properties_of` can bisect.
            heif.associations.sort_by_key(|(item, _)| *item);
        }
        if let Some(body) = iloc {
            let wanted = heif.readable_items();
            heif.locations = read_iloc(body, |id| wanted.binary_search(&id).is_ok())?;
        }
        Ok(heif)
    }

    /// The items a decode may read the bytes of: the primary item, the items referring to it
    /// (`auxl`: its alpha), and the tiles of each of those. Only their locations are kept.
    fn readable_items(&self) -> Vec<u32> {
        let mut ids = vec![self.primary];
        ids.extend(self.references.iter().filter(|r| &r.kind == b"auxl" && r.to.contains(&self.primary)).map(|r| r.from));
        // A grid over the tile cap is refused by `grid`; its tiles need no locations.
        let tiles: Vec<u32> = ids
            .iter()
            .map(|id| self.references(b"dimg", *id))
            .filter(|t| t.len() <= MAX_GRID_TILES)
            .flat_map(|t| t.iter().copied())
            .collect();
        ids.extend(tiles);
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub fn item_type(&self, id: u32) -> Option<FourCc> {
        self.items.iter().find(|(i, _)| *i == id).map(|(_, t)| *t)
    }

    fn properties_of(&self, id: u32) -> impl Iterator<Item = &Property<'a>> {
        let start = self.associations.partition_point(|(item, _)| *item < id);
        self.associations[start..]
            .iter()
            .take_while(move |(item, _)| *item == id)
            .filter_map(|(_, index)| self.properties.get(usize::from(*index).checked_sub(1)?))
    }

    /// The item's stored size (`ispe`), before any rotation.
    pub fn size(&self, id: u32) -> Option<(u32, u32)> {
        self.properties_of(id).find_map(|p| match p {
            Property::Ispe { width, height } => Some((*width, *height)),
            _ => None,
        })
    }

    /// The EXIF orientation (1..=8) equivalent to the item's `irot` then `imir`; the same mapping
    /// as libavif's (and Pillow's) `irot_imir_to_exif_orientation`.
    pub fn orientation(&self, id: u32) -> u8 {
        let rot = self.properties_of(id).find_map(|p| if let Property::Irot(a) = p { Some(*a) } else { None });
        let mir = self.properties_of(id).find_map(|p| if let Property::Imir(a) = p { Some(*a) } else { None });
        exif_orientation(rot.unwrap_or(0), mir)
    }

    pub fn nclx(&self, id: u32) -> Option<Nclx> {
        self.properties_of(id).find_map(|p| if let Property::Nclx(n) = p { Some(*n) } else { None })
    }

    pub fn icc(&self, id: u32) -> Option<&'a [u8]> {
        self.properties_of(id).find_map(|p| if let Property::Icc(b) = p { Some(*b) } else { None })
    }

    fn references(&self, kind: &FourCc, from: u32) -> &[u32] {
        self.references.iter().find(|r| &r.kind == kind && r.from == from).map(|r| r.to.as_slice()).unwrap_or(&[])
    }

    /// The alpha plane of `id`: an item referring to it by `auxl` with an alpha `auxC` type.
    pub fn alpha_of(&self, id: u32) -> Option<u32> {
        self.references
            .iter()
            .filter(|r| &r.kind == b"auxl" && r.to.contains(&id) && r.from != id)
            .map(|r| r.from)
            .find(|a| {
                self.properties_of(*a).any(|p| matches!(p, Property::AuxType(urn) if ALPHA_URNS.contains(urn)))
            })
    }

    /// Colour is stored premultiplied by `alpha` (a `prem` reference from the colour item).
    pub fn premultiplied(&self, id: u32, alpha: u32) -> bool {
        self.references(b"prem", id).contains(&alpha)
    }

    /// The item's bytes, from the file or from `idat`; borrowed when it is one extent.
    pub fn data(&self, id: u32) -> Result<Cow<'a, [u8]>, EngineError> {
        let loc = self
            .locations
            .binary_search_by_key(&id, |l| l.item_id)
            .map(|i| &self.locations[i])
            .map_err(|_| corrupt("item has no location"))?;
        if loc.data_reference_index != 0 {
            return Err(unsupported("item data in another file"));
        }
        let source = match loc.construction_method {
            0 => self.file,
            1 => self.idat,
            _ => return Err(unsupported("item data constructed from other items")),
        };
        let slice = |&(offset, length): &(u64, u64)| -> Result<&'a [u8], EngineError> {
            let start = loc.base_offset.checked_add(offset).ok_or_else(|| corrupt("item offset overflows"))?;
            let start = usize::try_from(start).ok().filter(|s| *s <= source.len()).ok_or_else(|| corrupt("item data lies outside the file"))?;
            let end = if length == 0 {
                source.len()
            } else {
                usize::try_from(length).ok().and_then(|l| start.checked_add(l)).filter(|e| *e <= source.len()).ok_or_else(|| corrupt("item data lies outside the file"))?
            };
            Ok(&source[start..end])
        };
        match loc.extents.as_slice() {
            [] => Err(corrupt("item has no data")),
            [one] => Ok(Cow::Borrowed(slice(one)?)),
            many => {
                // Every extent is a slice of the file, so the joined length is at most the
                // extents' count times the file's size: checked before allocating.
                let parts = many.iter().map(slice).collect::<Result<Vec<_>, _>>()?;
                let total: usize = parts.iter().map(|p| p.len()).sum();
                if total > source.len() {
                    return Err(corrupt("item extents overlap"));
                }
                Ok(Cow::Owned(parts.concat()))
            }
        }
    }

    /// The grid descriptor of a `grid` item and its tiles (`dimg` references, row by row), held to
    /// the container rules: at most `MAX_GRID_TILES` tiles, each a distinct coded (not derived)
    /// item of one type whose `ispe` is the grid's one tile size, and tiles that cover the output
    /// exactly: `tile_w * (columns - 1) < width <= tile_w * columns`, the same for rows (ISO/IEC
    /// 23008-12 6.6.2.3). So the work a grid asks for is what its output size says, give or take
    /// one partial row and column.
    pub fn grid(&self, id: u32) -> Result<Grid, EngineError> {
        let data = self.data(id)?;
        let mut r = Reader::new(&data);
        let (_version, flags) = (r.u8()?, r.u8()?);
        let rows = u32::from(r.u8()?) + 1;
        let columns = u32::from(r.u8()?) + 1;
        let field = if flags & 1 == 1 { 4 } else { 2 };
        let width = u32::try_from(r.uint(field)?).map_err(|_| corrupt("grid width"))?;
        let height = u32::try_from(r.uint(field)?).map_err(|_| corrupt("grid height"))?;
        if width == 0 || height == 0 {
            return Err(corrupt("grid has no size"));
        }
        let count = (rows * columns) as usize;
        if count > MAX_GRID_TILES {
            return Err(too_complex(format!("grid of {rows}x{columns} tiles is over the limit of {MAX_GRID_TILES} tiles")));
        }
        let tiles = self.references(b"dimg", id).to_vec();
        if tiles.len() != count {
            return Err(corrupt("grid tile count does not match its rows and columns"));
        }
        let mut sorted = tiles.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(corrupt("grid uses one tile more than once"));
        }
        let kind = self.item_type(tiles[0]);
        for t in &tiles {
            let k = self.item_type(*t).ok_or_else(|| corrupt("a grid tile is not described"))?;
            if DERIVED_TYPES.contains(&&k) {
                return Err(corrupt("a grid tile is itself a derived image"));
            }
            if Some(k) != kind {
                return Err(corrupt("grid tiles differ in type"));
            }
        }
        let tile = self.size(tiles[0]).ok_or_else(|| corrupt("a grid tile has no size (ispe)"))?;
        if tiles.iter().any(|t| self.size(*t) != Some(tile)) {
            return Err(corrupt("grid tiles differ in size"));
        }
        let covers = |t: u32, n: u32, out: u32| u64::from(t) * u64::from(n - 1) < u64::from(out) && u64::from(out) <= u64::from(t) * u64::from(n);
        if !covers(tile.0, columns, width) || !covers(tile.1, rows, height) {
            return Err(corrupt(&format!(
                "grid of {rows}x{columns} tiles of {}x{} does not cover its {width}x{height} output exactly",
                tile.0, tile.1
            )));
        }
        Ok(Grid { rows, columns, width, height, tile, tiles })
    }
}

/// EXIF orientation for an anticlockwise rotation of `rot` quarter turns followed by an optional
/// mirror (`imir` axis 0: top/bottom exchanged, 1: left/right exchanged).
pub(crate) fn exif_orientation(rot: u8, mir: Option<u8>) -> u8 {
    match (rot & 3, mir) {
        (0, None) => 1,
        (0, Some(0)) => 4,
        (0, Some(_)) => 2,
        (1, None) => 8,
        (1, Some(0)) => 5,
        (1, Some(_)) => 7,
        (2, None) => 3,
        (2, Some(0)) => 2,
        (2, Some(_)) => 4,
        (_, None) => 6,
        (_, Some(0)) => 7,
        (_, Some(_)) => 5,
    }
}

fn read_iinf(body: &[u8]) -> Result<Vec<(u32, FourCc)>, EngineError> {
    let mut r = Reader::new(body);
    let (v, _) = r.full()?;
    if v == 0 { r.u16()?; } else { r.u32()?; }
    let mut items = Vec::new();
    for b in boxes(r.rest()) {
        let (kind, body, _) = b?;
        if &kind != b"infe" {
            continue;
        }
        let mut r = Reader::new(body);
        let (v, _) = r.full()?;
        // Versions 0 and 1 predate item types; such an item cannot be an image we decode.
        let (id, kind) = match v {
            2 => { let id = r.u16()?.into(); r.u16()?; (id, r.fourcc()?) }
            3 => { let id = r.u32()?; r.u16()?; (id, r.fourcc()?) }
            _ => continue,
        };
        items.push((id, kind));
    }
    Ok(items)
}

/// The locations of the items `keep` accepts. Every item's entry is still read and checked: the
/// field sizes, the extent count against `MAX_EXTENTS_PER_ITEM` and every count against the
/// bytes left in the box, so no count is trusted before the bytes that carry it are there.
fn read_iloc(body: &[u8], keep: impl Fn(u32) -> bool) -> Result<Vec<Location>, EngineError> {
    let mut r = Reader::new(body);
    let (v, _) = r.full()?;
    if v > 2 {
        return Err(unsupported("iloc version"));
    }
    let sizes = r.u8()?;
    let (offset_size, length_size) = (usize::from(sizes >> 4), usize::from(sizes & 15));
    let sizes = r.u8()?;
    let base_offset_size = usize::from(sizes >> 4);
    let index_size = if v >= 1 { usize::from(sizes & 15) } else { 0 };
    for size in [offset_size, length_size, base_offset_size, index_size] {
        if ![0, 4, 8].contains(&size) {
            return Err(corrupt("iloc field size is not 0, 4 or 8"));
        }
    }
    let count = if v < 2 { u32::from(r.u16()?) } else { r.u32()? };
    let id_size = if v < 2 { 2 } else { 4 };
    // item id, construction method (v1+), data reference index, base offset, extent count.
    let entry_size = id_size + if v >= 1 { 2 } else { 0 } + 2 + base_offset_size + 2;
    r.holds(count.into(), entry_size, "iloc")?;
    let extent_size = index_size + offset_size + length_size;
    let mut locations = Vec::new();
    for _ in 0..count {
        let item_id = if v < 2 { u32::from(r.u16()?) } else { r.u32()? };
        let construction_method = if v >= 1 { (r.u16()? & 15) as u8 } else { 0 };
        let data_reference_index = r.u16()?;
        let base_offset = r.uint(base_offset_size)?;
        let extent_count = usize::from(r.u16()?);
        if extent_count > MAX_EXTENTS_PER_ITEM {
            return Err(too_complex(format!("item {item_id} is split into {extent_count} extents, over the limit of {MAX_EXTENTS_PER_ITEM}")));
        }
        // A zero-width offset or length field reads as 0 without a byte: "at the base offset" and
        // "to the end of the source". Both mean something for an item's only extent; for more,
        // every extent would repeat the same bytes for free.
        if extent_count > 1 && (offset_size == 0 || length_size == 0) {
            return Err(corrupt("iloc has zero-width offset or length fields for items of several extents"));
        }
        r.holds(extent_count as u64, extent_size, "iloc")?;
        let mut extents = Vec::with_capacity(if keep(item_id) { extent_count } else { 0 });
        for _ in 0..extent_count {
            r.uint(index_size)?;
            let offset = r.uint(offset_size)?;
            let length = r.uint(length_size)?;
            if keep(item_id) {
                extents.push((offset, length));
            }
        }
        if keep(item_id) {
            locations.push(Location { item_id, construction_method, data_reference_index, base_offset, extents });
        }
    }
    locations.sort_unstable_by_key(|l| l.item_id);
    if let Some(w) = locations.windows(2).find(|w| w[0].item_id == w[1].item_id) {
        return Err(corrupt(&format!("item {} has more than one location", w[0].item_id)));
    }
    Ok(locations)
}

fn read_iref(body: &[u8]) -> Result<Vec<Reference>, EngineError> {
    let mut r = Reader::new(body);
    let (v, _) = r.full()?;
    let id = |r: &mut Reader| -> Result<u32, EngineError> { if v == 0 { Ok(r.u16()?.into()) } else { r.u32() } };
    let mut refs = Vec::new();
    for b in boxes(r.rest()) {
        let (kind, body, _) = b?;
        let mut r = Reader::new(body);
        let from = id(&mut r)?;
        let count = r.u16()?;
        r.holds(count.into(), if v == 0 { 2 } else { 4 }, "iref")?;
        let to = (0..count).map(|_| id(&mut r)).collect::<Result<Vec<_>, _>>()?;
        refs.push(Reference { kind, from, to });
    }
    Ok(refs)
}

fn read_iprp<'a>(body: &'a [u8], properties: &mut Vec<Property<'a>>, associations: &mut Vec<(u32, u16)>) -> Result<(), EngineError> {
    for b in boxes(body) {
        let (kind, body, _) = b?;
        match &kind {
            b"ipco" => {
                for p in boxes(body) {
                    let (kind, body, _) = p?;
                    properties.push(read_property(&kind, body)?);
                }
            }
            b"ipma" => {
                let mut r = Reader::new(body);
                let (v, flags) = r.full()?;
                let count = r.u32()?;
                let (id_size, index_size) = (if v < 1 { 2 } else { 4 }, if flags & 1 == 1 { 2 } else { 1 });
                r.holds(count.into(), id_size + 1, "ipma")?;
                for _ in 0..count {
                    let item = if v < 1 { u32::from(r.u16()?) } else { r.u32()? };
                    let n = r.u8()?;
                    r.holds(n.into(), index_size, "ipma")?;
                    for _ in 0..n {
                        let index = if flags & 1 == 1 { r.u16()? & 0x7fff } else { u16::from(r.u8()? & 0x7f) };
                        associations.push((item, index));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn read_property<'a>(kind: &FourCc, body: &'a [u8]) -> Result<Property<'a>, EngineError> {
    let mut r = Reader::new(body);
    Ok(match kind {
        b"ispe" => {
            r.full()?;
            Property::Ispe { width: r.u32()?, height: r.u32()? }
        }
        b"irot" => Property::Irot(r.u8()? & 3),
        b"imir" => Property::Imir(r.u8()? & 1),
        b"colr" => match &r.fourcc()? {
            b"nclx" => Property::Nclx(Nclx { primaries: r.u16()?, transfer: r.u16()?, matrix: r.u16()?, full_range: r.u8()? & 0x80 != 0 }),
            b"prof" | b"rICC" => Property::Icc(r.rest()),
            _ => Property::Other,
        },
        b"auxC" => {
            r.full()?;
            let rest = r.rest();
            let end = rest.iter().position(|c| *c == 0).unwrap_or(rest.len());
            Property::AuxType(&rest[..end])
        }
        _ => Property::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irot_imir_map_to_exif_like_libavif() {
        // Pillow's test_rot_mir_exif table (derived from libavif's mapping), plus the unmirrored cases.
        assert_eq!([0, 1, 2, 3].map(|r| exif_orientation(r, None)), [1, 8, 3, 6]);
        assert_eq!([0, 1, 2, 3].map(|r| exif_orientation(r, Some(0))), [4, 5, 2, 7]);
        assert_eq!([0, 1, 2, 3].map(|r| exif_orientation(r, Some(1))), [2, 7, 4, 5]);
    }

    #[test]
    fn boxes_reject_sizes_past_the_end_and_stop() {
        let mut b = 16u32.to_be_bytes().to_vec();
        b.extend_from_slice(b"free");
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&100u32.to_be_bytes());
        b.extend_from_slice(b"free");
        let got: Vec<_> = boxes(&b).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        assert!(got[1].is_err());
        // A size smaller than its own header.
        assert!(boxes(&[0, 0, 0, 4, b'f', b'r', b'e', b'e']).next().unwrap().is_err());
    }
}
