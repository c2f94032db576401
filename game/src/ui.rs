//! Shared look of the room screen, the terminal and the pairing screen: large type, strong
//! contrast, big touch targets (at least 64 px, above the 48 px of touch guidelines, for
//! hands that are not used to tablets), and the rebuild-on-change pattern every view uses.

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};

/// Page background.
pub const BACKGROUND: Color = Color::srgb(0.07, 0.09, 0.13);
/// A card on the page.
pub const CARD: Color = Color::srgb(0.14, 0.17, 0.24);
/// Main text.
pub const INK: Color = Color::srgb(0.96, 0.96, 0.94);
/// Secondary text.
pub const MUTED: Color = Color::srgb(0.70, 0.74, 0.80);
/// The accent (buttons, selection).
pub const ACCENT: Color = Color::srgb(0.16, 0.46, 0.86);
/// Selected items.
pub const SELECTED: Color = Color::srgb(0.95, 0.70, 0.15);
/// Good news.
pub const GOOD: Color = Color::srgb(0.18, 0.62, 0.32);
/// Bad news, and the countdown's last minutes.
pub const BAD: Color = Color::srgb(0.82, 0.24, 0.20);
/// A button.
pub const BUTTON: Color = Color::srgb(0.24, 0.29, 0.38);

/// The root of a view, despawned and rebuilt when its model changes.
#[derive(Component, Debug)]
pub struct ViewRoot;

/// A text node of `size` px in `color`.
pub fn text(value: impl Into<String>, size: f32, color: Color) -> impl Bundle {
    (
        Text::new(value),
        TextFont::from_font_size(size),
        TextColor(color),
    )
}

/// A column that fills its parent, with `gap` px between children.
pub fn column(gap: f32) -> Node {
    Node {
        flex_direction: FlexDirection::Column,
        row_gap: px(gap),
        ..default()
    }
}

/// A wrapping row with `gap` px between children.
pub fn row(gap: f32) -> Node {
    Node {
        flex_direction: FlexDirection::Row,
        flex_wrap: FlexWrap::Wrap,
        column_gap: px(gap),
        row_gap: px(gap),
        align_items: AlignItems::Center,
        ..default()
    }
}

/// A card: padded, rounded, on [`CARD`].
pub fn card() -> impl Bundle {
    (
        Node {
            flex_direction: FlexDirection::Column,
            padding: UiRect::all(px(20.0)),
            row_gap: px(12.0),
            border_radius: BorderRadius::all(px(14.0)),
            ..default()
        },
        BackgroundColor(CARD),
    )
}

/// A button's node: at least `min_w` px wide and 64 px high, rounded.
pub fn button_node(min_w: f32) -> Node {
    button_node_sized(min_w, 64.0)
}

/// A button's node at least `min_w` × `min_h` px (list lines that must all fit: 48 px and up).
pub fn button_node_sized(min_w: f32, min_h: f32) -> Node {
    Node {
        min_width: px(min_w),
        min_height: px(min_h),
        padding: if min_h < 64.0 {
            UiRect::axes(px(12.0), px(4.0))
        } else {
            UiRect::axes(px(18.0), px(10.0))
        },
        justify_content: JustifyContent::Center,
        align_items: AlignItems::Center,
        border: UiRect::all(px(3.0)),
        border_radius: BorderRadius::all(px(12.0)),
        ..default()
    }
}

/// The full-window root of a view.
pub fn root() -> impl Bundle {
    (
        ViewRoot,
        Node {
            width: percent(100.0),
            height: percent(100.0),
            flex_direction: FlexDirection::Column,
            padding: UiRect::all(px(28.0)),
            row_gap: px(18.0),
            ..default()
        },
        BackgroundColor(BACKGROUND),
    )
}

/// DejaVu Sans (Bitstream Vera licence, `game/assets/fonts/DejaVuSans-LICENSE.txt`): Bevy's
/// built-in font is a subset without accents, and every French sentence has some.
pub(crate) const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Makes DejaVu Sans the default font (the asset behind the default handle), before any text
/// is laid out. Needs bevy's `TextPlugin`.
pub fn font_plugin(app: &mut App) {
    let mut fonts = app.world_mut().resource_mut::<Assets<Font>>();
    if let Err(e) = fonts.insert(AssetId::default(), Font::from_bytes(FONT.to_vec())) {
        error!("police par défaut non remplacée : {e}");
    }
}

/// Spawns the 2D camera the views draw with.
pub fn camera(mut commands: Commands) {
    commands.spawn(Camera2d);
}

/// A black RGBA image of `size`: a video surface before its first frame.
pub fn black_image(size: Extent3d) -> Image {
    Image::new_fill(
        size,
        TextureDimension::D2,
        &[0, 0, 0, 255],
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    )
}

/// Puts a decoded video frame into `image` (`Rgba8UnormSrgb`), made anew only when the
/// frame's size changes; otherwise the image's buffer is reused from frame to frame.
pub fn put_frame(image: &mut Image, frame: &boussole_video::Frame) {
    let size = Extent3d {
        width: frame.width,
        height: frame.height,
        depth_or_array_layers: 1,
    };
    if image.texture_descriptor.size != size {
        *image = black_image(size);
    }
    match image.data.as_mut() {
        Some(data) => {
            data.clear();
            data.extend_from_slice(&frame.rgba);
        }
        None => image.data = Some(frame.rgba.to_vec()),
    }
}
