//! Pictograms beside participant texts (the content's `Text::pictogram`, SVG or PNG under
//! `assets/`), for people who read French poorly: rasterised once with `resvg` (SVG) or
//! `image` (PNG) into a Bevy `Image`, cached by path. Text inside an SVG is drawn with the
//! client's embedded DejaVu Sans, so a pictogram looks the same on every device. A missing or
//! broken pictogram is logged once and left out (the words are still there): never a panic.

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use boussole_content::text::AssetPath;
use resvg::{tiny_skia, usvg};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a pictogram could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PictogramError {
    /// The file could not be read.
    #[error("pictogramme {path} illisible : {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid SVG or PNG.
    #[error("pictogramme {path} corrompu : {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's words.
        why: String,
    },
}

/// A drawn pictogram: `width × height` pixels, RGBA 8 bits per channel, straight (not
/// premultiplied) alpha, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// `width * height * 4` bytes.
    pub rgba: Vec<u8>,
}

/// Draws the SVG `data` to fit a `size × size` square (its aspect kept, centred).
///
/// # Errors
/// [`PictogramError::Corrupt`] when `data` is not SVG (`path` names it in the message).
pub fn rasterize_svg(data: &[u8], size: u32, path: &Path) -> Result<Raster, PictogramError> {
    let corrupt = |why: String| PictogramError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    let mut options = usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_font_data(crate::ui::FONT.to_vec());
    fonts.set_sans_serif_family("DejaVu Sans");
    fonts.set_serif_family("DejaVu Sans");
    options.font_family = "DejaVu Sans".into();
    let tree = usvg::Tree::from_data(data, &options).map_err(|e| corrupt(e.to_string()))?;
    let size = size.max(1);
    let mut pixmap =
        tiny_skia::Pixmap::new(size, size).ok_or_else(|| corrupt("taille nulle".into()))?;
    let svg = tree.size();
    let scale = (size as f32 / svg.width()).min(size as f32 / svg.height());
    let dx = (size as f32 - svg.width() * scale) / 2.0;
    let dy = (size as f32 - svg.height() * scale) / 2.0;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale).post_translate(dx, dy),
        &mut pixmap.as_mut(),
    );
    let rgba = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    Ok(Raster {
        width: size,
        height: size,
        rgba,
    })
}

/// Reads and draws the pictogram at `path` (`.svg` with resvg, anything else as a PNG) to fit a
/// `size × size` square.
///
/// # Errors
/// [`PictogramError::Read`] when the file cannot be read, [`PictogramError::Corrupt`] when it
/// does not decode.
pub fn rasterize(path: &Path, size: u32) -> Result<Raster, PictogramError> {
    let data = std::fs::read(path).map_err(|source| PictogramError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
    {
        return rasterize_svg(&data, size, path);
    }
    let img = image::load_from_memory(&data)
        .map_err(|e| PictogramError::Corrupt {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?
        .to_rgba8();
    Ok(Raster {
        width: img.width(),
        height: img.height(),
        rgba: img.into_raw(),
    })
}

/// The client's own speaker pictogram beside each « Écouter » (drawn here, part of the
/// client, not of the content).
pub const SPEAKER_SVG: &[u8] = include_bytes!("../icons/ecouter.svg");

/// `r` as a Bevy image.
fn image_of(r: Raster) -> Image {
    Image::new(
        Extent3d {
            width: r.width,
            height: r.height,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        r.rgba,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    )
}

/// The speaker pictogram, drawn ([`SPEAKER_SVG`]); `None` (logged) if it cannot be.
pub fn speaker(images: &mut Assets<Image>) -> Option<Handle<Image>> {
    match rasterize_svg(SPEAKER_SVG, PICTOGRAM_PX, Path::new("icons/ecouter.svg")) {
        Ok(r) => Some(images.add(image_of(r))),
        Err(e) => {
            warn!("{e}");
            None
        }
    }
}

/// The pictograms drawn so far, by asset path (`None`: it failed, and was logged once).
#[derive(Resource, Debug, Default)]
pub struct Pictograms(BTreeMap<AssetPath, Option<Handle<Image>>>);

/// The side of a drawn pictogram, pixels: sharp at the size labels show them.
pub const PICTOGRAM_PX: u32 = 128;

impl Pictograms {
    /// The image of `path` under `assets`, drawn on first use.
    pub fn get(
        &mut self,
        assets: &Path,
        path: &AssetPath,
        images: &mut Assets<Image>,
    ) -> Option<Handle<Image>> {
        self.0
            .entry(path.clone())
            .or_insert_with(
                || match rasterize(&assets.join(path.as_str()), PICTOGRAM_PX) {
                    Ok(r) => Some(images.add(image_of(r))),
                    Err(e) => {
                        warn!("{e}");
                        None
                    }
                },
            )
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pictogram(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/pictograms")
            .join(name)
    }

    #[test]
    fn a_shipped_pictogram_is_drawn_with_its_colours_and_its_digit() -> Result<(), PictogramError> {
        // note_3.svg: a yellow disc (#f2b705) with a "3" drawn in the embedded font.
        let r = rasterize(&pictogram("note_3.svg"), 64)?;
        assert_eq!((r.width, r.height, r.rgba.len()), (64, 64, 64 * 64 * 4));
        let at = |x: usize, y: usize| {
            let i = (y * 64 + x) * 4;
            [r.rgba[i], r.rgba[i + 1], r.rgba[i + 2], r.rgba[i + 3]]
        };
        assert_eq!(at(0, 0)[3], 0, "outside the disc is transparent");
        assert_eq!(at(10, 32), [0xf2, 0xb7, 0x05, 255], "the disc's yellow");
        // The digit: dark pixels in the middle of the disc.
        let dark = (20..44)
            .flat_map(|y| (24..40).map(move |x| (x, y)))
            .filter(|&(x, y)| at(x, y)[0] < 80)
            .count();
        assert!(dark > 20, "no digit drawn ({dark} dark pixels)");
        Ok(())
    }

    #[test]
    fn the_speaker_is_drawn_white_on_transparent() -> Result<(), PictogramError> {
        let r = rasterize_svg(SPEAKER_SVG, 64, Path::new("ecouter.svg"))?;
        let alpha = |x: usize, y: usize| r.rgba[(y * 64 + x) * 4 + 3];
        assert_eq!(alpha(2, 2), 0, "the corner is transparent");
        // The speaker's body, left of centre, is opaque and light.
        let i = (32 * 64 + 16) * 4;
        assert!(
            r.rgba[i] > 200 && r.rgba[i + 3] == 255,
            "{:?}",
            &r.rgba[i..i + 4]
        );
        Ok(())
    }

    #[test]
    fn a_missing_or_broken_pictogram_is_an_error_naming_it()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let missing = rasterize(&dir.path().join("absent.svg"), 32);
        assert!(
            matches!(&missing, Err(PictogramError::Read { path, .. }) if path.ends_with("absent.svg"))
        );
        let broken = dir.path().join("casse.svg");
        std::fs::write(&broken, "<svg pas fini")?;
        let err = rasterize(&broken, 32).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("casse.svg") && e.contains("corrompu")),
            "{err:?}"
        );
        Ok(())
    }
}
