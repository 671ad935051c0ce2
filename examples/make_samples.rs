//! Generates the synthetic product photos in `samples/`: mugs, shoes and
//! potted plants on a studio-like backdrop, in three class folders.
//!
//! The first command in the README augments `samples/`, so the repository
//! needs a small set of photo-like inputs that carry no third-party licence. Each image has a
//! lit object with shading, a soft shadow, a textured backdrop and sensor
//! grain, so that augmentations such as blur, colour jitter and JPEG
//! re-encoding have realistic content to act on. The set mixes JPEG and PNG,
//! landscape, square and portrait sizes, and one RGBA cut-out with a
//! transparent background.
//!
//! Run with `cargo run --release --example make_samples -- [OUTPUT_DIR]`;
//! the output directory defaults to `samples`.
//!
//! NOTE: the output is byte-identical from run to run on one machine. The
//! program calls `f32::sin`, `powf` and similar functions, whose last bits may
//! differ between platforms, so another platform can produce slightly
//! different pixels.

use std::error::Error;
use std::f32::consts::PI;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbImage, RgbaImage};

const JPEG_QUALITY: u8 = 90;

type Rgb = [f32; 3];

#[derive(Clone, Copy)]
enum Product {
    Mug,
    Shoe,
    Plant,
}

#[derive(Clone, Copy)]
enum BackdropStyle {
    /// A wall meeting a table top at a horizon line.
    Room,
    /// A seamless paper sweep, the usual studio product backdrop.
    Sweep,
    /// No backdrop: the product is a cut-out on a transparent background.
    Transparent,
}

struct SampleSpec {
    class_dir: &'static str,
    file_name: &'static str,
    product: Product,
    width: u32,
    height: u32,
    backdrop: BackdropStyle,
}

// One row per file reads better than rustfmt's one field per line.
#[rustfmt::skip]
const SAMPLES: &[SampleSpec] = &[
    SampleSpec { class_dir: "mugs", file_name: "mug_01.jpg", product: Product::Mug, width: 640, height: 480, backdrop: BackdropStyle::Room },
    SampleSpec { class_dir: "mugs", file_name: "mug_02.png", product: Product::Mug, width: 400, height: 300, backdrop: BackdropStyle::Sweep },
    SampleSpec { class_dir: "mugs", file_name: "mug_03.jpg", product: Product::Mug, width: 480, height: 480, backdrop: BackdropStyle::Room },
    SampleSpec { class_dir: "mugs", file_name: "mug_04.jpg", product: Product::Mug, width: 360, height: 480, backdrop: BackdropStyle::Sweep },
    SampleSpec { class_dir: "mugs", file_name: "mug_05.png", product: Product::Mug, width: 360, height: 360, backdrop: BackdropStyle::Transparent },
    SampleSpec { class_dir: "shoes", file_name: "shoe_01.jpg", product: Product::Shoe, width: 640, height: 400, backdrop: BackdropStyle::Room },
    SampleSpec { class_dir: "shoes", file_name: "shoe_02.jpg", product: Product::Shoe, width: 560, height: 420, backdrop: BackdropStyle::Sweep },
    SampleSpec { class_dir: "shoes", file_name: "shoe_03.png", product: Product::Shoe, width: 400, height: 300, backdrop: BackdropStyle::Room },
    SampleSpec { class_dir: "shoes", file_name: "shoe_04.jpg", product: Product::Shoe, width: 640, height: 360, backdrop: BackdropStyle::Room },
    SampleSpec { class_dir: "plants", file_name: "plant_01.jpg", product: Product::Plant, width: 360, height: 480, backdrop: BackdropStyle::Room },
    SampleSpec { class_dir: "plants", file_name: "plant_02.jpg", product: Product::Plant, width: 480, height: 480, backdrop: BackdropStyle::Sweep },
    SampleSpec { class_dir: "plants", file_name: "plant_03.png", product: Product::Plant, width: 320, height: 400, backdrop: BackdropStyle::Sweep },
    SampleSpec { class_dir: "plants", file_name: "plant_04.jpg", product: Product::Plant, width: 640, height: 480, backdrop: BackdropStyle::Room },
];

fn main() -> Result<(), Box<dyn Error>> {
    let output_dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "samples".to_string()),
    );
    for (index, spec) in SAMPLES.iter().enumerate() {
        let canvas = render_sample(spec, index as u64);
        let class_dir = output_dir.join(spec.class_dir);
        fs::create_dir_all(&class_dir)?;
        let path = class_dir.join(spec.file_name);
        save(
            &canvas,
            &path,
            matches!(spec.backdrop, BackdropStyle::Transparent),
        )?;
        println!("wrote {} ({}x{})", path.display(), spec.width, spec.height);
    }
    Ok(())
}

fn render_sample(spec: &SampleSpec, index: u64) -> Canvas {
    let mut rng = Rng::new(index);
    let mut canvas = Canvas::new(spec.width, spec.height);

    let (w, h) = (spec.width as f32, spec.height as f32);
    let horizon_y = h * rng.range(0.52, 0.62);
    match spec.backdrop {
        BackdropStyle::Room => paint_room(&mut canvas, &mut rng, horizon_y),
        BackdropStyle::Sweep => paint_sweep(&mut canvas, &mut rng),
        BackdropStyle::Transparent => {}
    }

    // The object sits on the table below the horizon and stays inside the
    // frame whatever the aspect ratio, so its size follows the shorter side.
    let scale = w.min(h) * rng.range(0.78, 0.9);
    let center_x = w * (0.5 + rng.range(-0.06, 0.06));
    let ground_y = match spec.backdrop {
        BackdropStyle::Transparent => h * 0.8,
        _ => (horizon_y + (h - horizon_y) * rng.range(0.45, 0.6)).min(h * 0.9),
    };

    // The main colour and style come from the index rather than the random
    // stream, so the images of one class get different main colours.
    let variant = index as usize;
    match spec.product {
        Product::Mug => paint_mug(&mut canvas, &mut rng, variant, center_x, ground_y, scale),
        Product::Shoe => {
            let length = w.min(h * 1.6) * rng.range(0.58, 0.66);
            paint_shoe(&mut canvas, &mut rng, variant, center_x, ground_y, length)
        }
        Product::Plant => paint_plant(&mut canvas, &mut rng, variant, center_x, ground_y, scale),
    }

    if !matches!(spec.backdrop, BackdropStyle::Transparent) {
        apply_vignette(&mut canvas, rng.range(0.18, 0.32));
    }
    add_grain(&mut canvas, rng.next_u32(), 0.014);
    canvas
}

// ---------------------------------------------------------------------------
// Canvas and compositing
// ---------------------------------------------------------------------------

/// Image being drawn: a straight (not premultiplied) sRGB colour in 0..1 and
/// an alpha value per pixel.
struct Canvas {
    width: u32,
    height: u32,
    color: Vec<Rgb>,
    alpha: Vec<f32>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Self {
        let len = (width * height) as usize;
        Canvas {
            width,
            height,
            color: vec![[0.0; 3]; len],
            alpha: vec![0.0; len],
        }
    }

    /// Composites `paint(x, y) -> (colour, opacity)` over every pixel with the
    /// "over" operator. `x` and `y` are pixel centres.
    fn blend(&mut self, paint: impl Fn(f32, f32) -> (Rgb, f32)) {
        for y in 0..self.height {
            for x in 0..self.width {
                let (src, src_alpha) = paint(x as f32 + 0.5, y as f32 + 0.5);
                let src_alpha = src_alpha.clamp(0.0, 1.0);
                if src_alpha <= 0.0 {
                    continue;
                }
                let i = (y * self.width + x) as usize;
                let dst_alpha = self.alpha[i];
                let out_alpha = src_alpha + dst_alpha * (1.0 - src_alpha);
                for (dst, src) in self.color[i].iter_mut().zip(src) {
                    *dst = (src * src_alpha + *dst * dst_alpha * (1.0 - src_alpha)) / out_alpha;
                }
                self.alpha[i] = out_alpha;
            }
        }
    }

    /// Fills the shape whose signed distance (pixels, negative inside) is
    /// `distance`, antialiased over one pixel.
    fn fill(&mut self, distance: impl Fn(f32, f32) -> f32, shade: impl Fn(f32, f32) -> Rgb) {
        self.blend(|x, y| {
            let coverage = (0.5 - distance(x, y)).clamp(0.0, 1.0);
            if coverage <= 0.0 {
                ([0.0; 3], 0.0)
            } else {
                (shade(x, y), coverage)
            }
        });
    }

    /// Darkens an elliptical area: fully `strength` inside the fraction `core`
    /// of the radii, fading to nothing at the edge. On a transparent canvas
    /// this leaves a semi-transparent shadow.
    fn soft_shadow(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, strength: f32, core: f32) {
        self.blend(|x, y| {
            let radius = (((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt();
            (
                [0.02, 0.02, 0.025],
                strength * (1.0 - smoothstep(core, 1.0, radius)),
            )
        });
    }

    fn map_colors(&mut self, f: impl Fn(u32, u32, Rgb) -> Rgb) {
        for y in 0..self.height {
            for x in 0..self.width {
                let i = (y * self.width + x) as usize;
                self.color[i] = f(x, y, self.color[i]);
            }
        }
    }
}

fn save(canvas: &Canvas, path: &Path, keep_alpha: bool) -> Result<(), Box<dyn Error>> {
    let to_byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    let writer = BufWriter::new(File::create(path)?);
    let is_png = path.extension().is_some_and(|ext| ext == "png");
    if keep_alpha {
        assert!(
            is_png,
            "{}: only PNG output can keep the alpha channel",
            path.display()
        );
        let image = RgbaImage::from_fn(canvas.width, canvas.height, |x, y| {
            let i = (y * canvas.width + x) as usize;
            let [r, g, b] = canvas.color[i];
            image::Rgba([to_byte(r), to_byte(g), to_byte(b), to_byte(canvas.alpha[i])])
        });
        PngEncoder::new_with_quality(writer, CompressionType::Best, FilterType::Adaptive)
            .write_image(
                &image,
                canvas.width,
                canvas.height,
                ExtendedColorType::Rgba8,
            )?;
        return Ok(());
    }
    let image = RgbImage::from_fn(canvas.width, canvas.height, |x, y| {
        let [r, g, b] = canvas.color[(y * canvas.width + x) as usize];
        image::Rgb([to_byte(r), to_byte(g), to_byte(b)])
    });
    if is_png {
        PngEncoder::new_with_quality(writer, CompressionType::Best, FilterType::Adaptive)
            .write_image(&image, canvas.width, canvas.height, ExtendedColorType::Rgb8)?;
    } else {
        JpegEncoder::new_with_quality(writer, JPEG_QUALITY).write_image(
            &image,
            canvas.width,
            canvas.height,
            ExtendedColorType::Rgb8,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Backdrops and camera effects
// ---------------------------------------------------------------------------

const WALL_COLORS: &[Rgb] = &[
    [0.86, 0.84, 0.80],
    [0.78, 0.83, 0.86],
    [0.88, 0.82, 0.78],
    [0.80, 0.82, 0.76],
    [0.90, 0.89, 0.87],
];
const TABLE_COLORS: &[Rgb] = &[
    [0.62, 0.45, 0.30],
    [0.74, 0.60, 0.44],
    [0.55, 0.55, 0.56],
    [0.84, 0.83, 0.80],
    [0.45, 0.33, 0.24],
];

fn paint_room(canvas: &mut Canvas, rng: &mut Rng, horizon_y: f32) {
    let wall = *rng.pick(WALL_COLORS);
    let table = *rng.pick(TABLE_COLORS);
    let wood_grain = rng.next_f32() < 0.6;
    let noise_seed = rng.next_u32();
    let light_x = canvas.width as f32 * rng.range(0.15, 0.45);
    let (w, h) = (canvas.width as f32, canvas.height as f32);
    canvas.blend(|x, y| {
        // Plaster-like low-frequency texture and a light pool near the light.
        let plaster = fbm(noise_seed, x / 40.0, y / 40.0) - 0.5;
        let light = 1.0 - 0.25 * ((x - light_x) / w).abs() - 0.12 * (y / horizon_y);
        let wall_color = scale_rgb(wall, light + 0.05 * plaster);

        // The table brightens towards the camera, and wood grain is
        // stretched along x because planks run left to right.
        let depth = ((y - horizon_y) / (h - horizon_y)).clamp(0.0, 1.0);
        let mut table_shade = 0.78 + 0.25 * depth - 0.12 * ((x - light_x) / w).abs();
        if wood_grain {
            let warp = fbm(noise_seed ^ 0x5a5a, x / 90.0, y / 6.0);
            let rings = (y * 0.35 + warp * 14.0).sin();
            table_shade += 0.05 * rings + 0.06 * (fbm(noise_seed ^ 0x77, x / 200.0, y / 3.0) - 0.5);
        } else {
            table_shade += 0.03 * (fbm(noise_seed ^ 0x33, x / 12.0, y / 12.0) - 0.5);
        }
        let table_color = scale_rgb(table, table_shade);

        // A dark contact line and a soft two-pixel edge where wall meets table.
        let t = smoothstep(horizon_y - 1.0, horizon_y + 1.0, y);
        let mut color = mix_rgb(wall_color, table_color, t);
        let edge_shadow = (-((y - horizon_y - 2.0) / 3.0).powi(2)).exp();
        color = scale_rgb(color, 1.0 - 0.25 * edge_shadow);
        (color, 1.0)
    });
}

fn paint_sweep(canvas: &mut Canvas, rng: &mut Rng) {
    let base = *rng.pick(WALL_COLORS);
    let tint = [
        rng.range(0.95, 1.05),
        rng.range(0.95, 1.05),
        rng.range(0.95, 1.05),
    ];
    let base = [base[0] * tint[0], base[1] * tint[1], base[2] * tint[2]];
    let noise_seed = rng.next_u32();
    let (w, h) = (canvas.width as f32, canvas.height as f32);
    canvas.blend(|x, y| {
        // The paper curves from vertical to horizontal, so brightness varies
        // smoothly with height with no visible horizon.
        let v = y / h;
        let curve = 0.82 + 0.22 * smoothstep(0.2, 0.85, v) - 0.06 * ((x / w) - 0.4).abs();
        let paper = 0.015 * (fbm(noise_seed, x / 25.0, y / 25.0) - 0.5);
        (scale_rgb(base, curve + paper), 1.0)
    });
}

fn apply_vignette(canvas: &mut Canvas, strength: f32) {
    let (w, h) = (canvas.width as f32, canvas.height as f32);
    canvas.map_colors(|x, y, color| {
        let dx = (x as f32 + 0.5) / w - 0.5;
        let dy = (y as f32 + 0.5) / h - 0.5;
        let r2 = (dx * dx + dy * dy) * 2.0;
        scale_rgb(color, 1.0 - strength * r2 * r2.sqrt())
    });
}

/// Adds per-pixel noise like a camera sensor's: a shared luminance part plus a
/// weaker independent part per channel, larger in the shadows.
fn add_grain(canvas: &mut Canvas, seed: u32, sigma: f32) {
    let alpha = canvas.alpha.clone();
    let width = canvas.width;
    canvas.map_colors(|x, y, color| {
        if alpha[(y * width + x) as usize] <= 0.0 {
            return color;
        }
        let luma = 0.3 * color[0] + 0.59 * color[1] + 0.11 * color[2];
        let amount = sigma * (1.4 - 0.6 * luma);
        let shared = gaussian_noise(hash3(x, y, seed));
        let mut out = color;
        for (c, channel) in out.iter_mut().enumerate() {
            let own = gaussian_noise(hash3(x, y, seed.wrapping_add(1 + c as u32)));
            *channel += amount * (shared + 0.5 * own);
        }
        out
    });
}

// ---------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------

const MUG_COLORS: &[Rgb] = &[
    [0.93, 0.92, 0.89],
    [0.80, 0.20, 0.17],
    [0.16, 0.33, 0.60],
    [0.95, 0.74, 0.20],
    [0.20, 0.46, 0.38],
    [0.18, 0.18, 0.20],
];

fn paint_mug(
    canvas: &mut Canvas,
    rng: &mut Rng,
    variant: usize,
    cx: f32,
    ground_y: f32,
    scale: f32,
) {
    let body = MUG_COLORS[variant % MUG_COLORS.len()];
    let half_width = scale * rng.range(0.2, 0.25);
    let height = half_width * rng.range(1.6, 2.1);
    // Seen from slightly above, the round rim and base are ellipses.
    let rim_ry = half_width * 0.28;
    let base_y = ground_y - rim_ry;
    let top_y = base_y - height;
    let handle_left = rng.next_f32() < 0.3;
    let has_band = rng.next_f32() < 0.5;
    let band = *rng.pick(MUG_COLORS);
    let has_coffee = rng.next_f32() < 0.5;
    let side = if handle_left { -1.0 } else { 1.0 };

    canvas.soft_shadow(
        cx + half_width * 0.35,
        ground_y,
        half_width * 1.8,
        rim_ry * 1.9,
        0.3,
        0.0,
    );
    canvas.soft_shadow(
        cx,
        ground_y - rim_ry * 0.3,
        half_width * 1.15,
        rim_ry * 1.35,
        0.6,
        0.6,
    );

    // Handle: an elliptical ring drawn first so the body hides its inner half.
    let handle_cx = cx + side * half_width;
    let handle_cy = top_y + height * 0.45;
    let (handle_rx, handle_ry) = (half_width * 0.48, height * 0.3);
    let thickness = half_width * 0.16;
    canvas.fill(
        |x, y| {
            ellipse_distance(x - handle_cx, y - handle_cy, handle_rx, handle_ry).abs()
                - thickness / 2.0
        },
        |x, y| {
            let up = -(y - handle_cy) / handle_ry;
            let out = side * (x - handle_cx) / handle_rx;
            scale_rgb(body, 0.55 + 0.25 * up + 0.15 * out)
        },
    );

    let body_distance = |x: f32, y: f32| {
        let column = box_distance(
            x - cx,
            y - (top_y + base_y) / 2.0,
            half_width,
            (base_y - top_y) / 2.0,
        );
        column.min(ellipse_distance(x - cx, y - base_y, half_width, rim_ry))
    };
    canvas.fill(body_distance, |x, y| {
        let u = ((x - cx) / half_width).clamp(-1.0, 1.0);
        // A printed band follows the cylinder, so its edges curve like the rim.
        let curved_y = y - rim_ry * (1.0 - u * u).sqrt();
        let band_top = top_y + height * 0.35;
        let in_band = has_band && curved_y > band_top && curved_y < band_top + height * 0.22;
        let base = if in_band { band } else { body };
        let (diffuse, specular) = cylinder_lighting(u);
        // Ambient occlusion near the table.
        let occlusion = 1.0 - 0.25 * smoothstep(base_y - height * 0.2, base_y + rim_ry, y);
        add_rgb(scale_rgb(base, diffuse * occlusion), specular * 0.45)
    });

    // Rim and the visible inside of the mug.
    let wall = half_width * 0.08;
    canvas.fill(
        |x, y| ellipse_distance(x - cx, y - top_y, half_width, rim_ry),
        |x, _| {
            let u = ((x - cx) / half_width).clamp(-1.0, 1.0);
            scale_rgb(body, 1.0 + 0.1 * (1.0 - u.abs()))
        },
    );
    let inner_rx = half_width - wall;
    let inner_ry = rim_ry - wall * 0.5;
    canvas.fill(
        |x, y| ellipse_distance(x - cx, y - top_y, inner_rx, inner_ry),
        |_, y| {
            // The back inner wall catches light, and the front wall shades the rest.
            let v = (y - (top_y - inner_ry)) / (2.0 * inner_ry);
            scale_rgb(body, 0.85 - 0.45 * v)
        },
    );
    if has_coffee {
        let coffee_cy = top_y + inner_ry * 0.3;
        canvas.fill(
            |x, y| {
                ellipse_distance(x - cx, y - coffee_cy, inner_rx * 0.94, inner_ry * 0.8)
                    .max(ellipse_distance(x - cx, y - top_y, inner_rx, inner_ry))
            },
            |x, y| {
                let glint = (-(((x - cx + inner_rx * 0.4) / (inner_rx * 0.25)).powi(2)
                    + ((y - coffee_cy) / (inner_ry * 0.3)).powi(2)))
                .exp();
                add_rgb([0.24, 0.14, 0.08], 0.18 * glint)
            },
        );
    }
}

const SHOE_COLORS: &[Rgb] = &[
    [0.85, 0.18, 0.16],
    [0.15, 0.22, 0.42],
    [0.22, 0.22, 0.24],
    [0.90, 0.90, 0.88],
    [0.36, 0.52, 0.30],
    [0.58, 0.40, 0.26],
];
const SOLE_COLORS: &[Rgb] = &[[0.95, 0.94, 0.90], [0.70, 0.50, 0.30], [0.14, 0.14, 0.15]];

/// Height of a sneaker's upper, as a fraction of the shoe height, sampled at
/// every tenth of the length from heel (first) to toe (last): heel counter,
/// ankle collar dip, tongue, laces, toe box.
const SHOE_PROFILE: [f32; 11] = [
    0.80, 0.84, 0.72, 0.80, 0.98, 0.86, 0.70, 0.56, 0.46, 0.38, 0.20,
];

/// Paints a side view of a sneaker whose sole is `length` pixels long.
fn paint_shoe(
    canvas: &mut Canvas,
    rng: &mut Rng,
    variant: usize,
    cx: f32,
    ground_y: f32,
    length: f32,
) {
    let upper = SHOE_COLORS[variant % SHOE_COLORS.len()];
    let sole = *rng.pick(SOLE_COLORS);
    let accent = *rng.pick(SHOE_COLORS);
    let light_upper = upper[0] + upper[1] + upper[2] > 2.2;
    let lace = if light_upper {
        [0.25, 0.25, 0.27]
    } else {
        [0.93, 0.93, 0.9]
    };
    let height = length * rng.range(0.34, 0.38);
    let texture_seed = rng.next_u32();
    // `facing` mirrors the drawing so the toe points right (+1) or left (-1).
    let facing = if variant % 3 == 1 { -1.0 } else { 1.0 };
    let heel_x = cx - facing * length / 2.0;
    // Local coordinates: `along` runs from the heel (0) to the toe (length)
    // and `up` from the ground upwards, both in pixels.
    let local = move |x: f32, y: f32| ((x - heel_x) * facing, ground_y - y);
    let sole_height = height * 0.17;
    // The toe spring lifts the front of the sole off the ground.
    let toe_lift = move |along: f32| height * 0.07 * smoothstep(0.7, 1.0, along / length).powi(2);
    let profile = move |along: f32| {
        height
            * catmull_rom(
                &SHOE_PROFILE,
                along / length * (SHOE_PROFILE.len() - 1) as f32,
            )
            + toe_lift(along)
    };

    canvas.soft_shadow(
        cx + length * 0.08,
        ground_y - 2.0,
        length * 0.62,
        height * 0.18,
        0.3,
        0.0,
    );
    canvas.soft_shadow(cx, ground_y - 1.0, length * 0.52, height * 0.07, 0.6, 0.5);

    let upper_distance = move |x: f32, y: f32| {
        let (along, up) = local(x, y);
        // Dividing by the slope's secant turns the vertical gap into an
        // approximate normal distance, which keeps steep edges antialiased.
        let slope = (profile(along + 1.0) - profile(along - 1.0)) / 2.0;
        let top = (up - profile(along)) / (1.0 + slope * slope).sqrt();
        let bottom = toe_lift(along) + sole_height * 0.5 - up;
        // The heel's back bulges out a little at mid height.
        let bulge = ((up - height * 0.45) / (height * 0.45)).powi(2);
        let back = length * (0.015 + 0.035 * bulge) - along;
        // An ellipse rounds off the toe box. Behind its centre it cuts nothing.
        let toe_center = length * 0.78;
        let front = if along < toe_center {
            -length
        } else {
            ellipse_distance(
                along - toe_center,
                up - toe_lift(along) - sole_height * 0.5,
                length * 0.215,
                height * 0.36,
            )
        };
        top.max(bottom).max(back).max(front)
    };
    canvas.fill(upper_distance, move |x, y| {
        let (_, up) = local(x, y);
        let depth = (-upper_distance(x, y) / (height * 0.14)).clamp(0.0, 1.0);
        let weave = 0.06 * (value_noise(texture_seed, x / 1.6, y / 1.6) - 0.5);
        scale_rgb(
            upper,
            0.6 + 0.3 * depth.sqrt() + 0.18 * (up / height) + weave,
        )
    });

    // Toe cap and heel tab in a darker tone of the upper.
    canvas.fill(
        move |x, y| {
            let (along, up) = local(x, y);
            let cap = ellipse_distance(
                along - length,
                up - sole_height,
                length * 0.2,
                height * 0.32,
            );
            let tab = box_distance(along, up - height * 0.75, length * 0.07, height * 0.12);
            cap.min(tab).max(upper_distance(x, y))
        },
        move |x, y| {
            let (_, up) = local(x, y);
            let depth = (-upper_distance(x, y) / (height * 0.14)).clamp(0.0, 1.0);
            scale_rgb(upper, 0.5 + 0.25 * depth.sqrt() + 0.15 * (up / height))
        },
    );

    // Side stripe: part of a large elliptical ring, clipped to the upper.
    canvas.fill(
        move |x, y| {
            let (along, up) = local(x, y);
            let ring = ellipse_distance(
                along - length * 0.66,
                up - sole_height,
                length * 0.3,
                height * 0.56,
            )
            .abs();
            // Only the ring's rear arc is used, so it stops short of the toe.
            let rear = along - length * 0.66;
            (ring - height * 0.05)
                .max(upper_distance(x, y) + height * 0.06)
                .max(rear)
        },
        move |x, y| {
            let (_, up) = local(x, y);
            scale_rgb(accent, 0.75 + 0.3 * (up / height))
        },
    );

    // Lining seen through the ankle opening, following the collar's outline.
    canvas.fill(
        move |x, y| {
            let (along, up) = local(x, y);
            let band = profile(along) - height * 0.08 - up;
            let span = ellipse_distance(
                along - length * 0.2,
                up - height * 0.78,
                length * 0.13,
                height * 0.3,
            );
            band.max(span).max(upper_distance(x, y))
        },
        move |x, y| {
            let (_, up) = local(x, y);
            scale_rgb([0.16, 0.15, 0.15], 0.8 + 0.4 * (up / height - 0.6))
        },
    );

    // Laces crossing the instep, with eyelets below them.
    for i in 0..5 {
        let lace_along = length * (0.44 + 0.055 * i as f32);
        let lace_up = profile(lace_along) - height * 0.07;
        let slope = (profile(lace_along + 1.0) - profile(lace_along - 1.0)) / 2.0;
        let lace_angle = slope.atan() + 0.7;
        let eyelet_up = profile(lace_along) - height * 0.16;
        canvas.fill(
            move |x, y| {
                let (along, up) = local(x, y);
                let (bar_along, bar_across) = rotate(along - lace_along, up - lace_up, lace_angle);
                rounded_box_distance(
                    bar_along,
                    bar_across,
                    length * 0.03,
                    height * 0.022,
                    height * 0.02,
                )
            },
            move |x, y| {
                let (_, up) = local(x, y);
                scale_rgb(lace, 0.85 + 3.0 * (up - lace_up) / height)
            },
        );
        canvas.fill(
            move |x, y| {
                let (along, up) = local(x, y);
                ellipse_distance(
                    along - lace_along,
                    up - eyelet_up,
                    height * 0.025,
                    height * 0.025,
                )
            },
            |_, _| [0.12, 0.12, 0.13],
        );
    }

    canvas.fill(
        move |x, y| {
            let (along, up) = local(x, y);
            let lifted_up = up - toe_lift(along);
            rounded_box_distance(
                along - length / 2.0,
                lifted_up - sole_height / 2.0,
                length / 2.0,
                sole_height / 2.0,
                sole_height * 0.45,
            )
        },
        move |x, y| {
            let (along, up) = local(x, y);
            let v = ((up - toe_lift(along)) / sole_height).clamp(0.0, 1.0);
            // A groove separates the midsole from a darker outsole. Both edges
            // are blended over about a pixel to avoid stair steps.
            let pixel = 1.0 / sole_height;
            let midsole = smoothstep(0.32 - pixel, 0.32 + pixel, v);
            let groove = (-((v - 0.33) / (1.2 * pixel)).powi(2)).exp();
            let tone = (0.6 + (0.2 + 0.25 * v) * midsole) * (1.0 - 0.4 * groove);
            scale_rgb(sole, tone)
        },
    );
}

const POT_COLORS: &[Rgb] = &[
    [0.72, 0.40, 0.26],
    [0.90, 0.89, 0.86],
    [0.25, 0.27, 0.30],
    [0.55, 0.65, 0.72],
    [0.82, 0.72, 0.55],
];
const LEAF_COLORS: &[Rgb] = &[
    [0.22, 0.45, 0.18],
    [0.30, 0.52, 0.22],
    [0.16, 0.36, 0.20],
    [0.38, 0.55, 0.25],
];

/// Paints a pot with broad arching leaves or, for odd `variant`s, upright
/// sword-like leaves.
fn paint_plant(
    canvas: &mut Canvas,
    rng: &mut Rng,
    variant: usize,
    cx: f32,
    ground_y: f32,
    scale: f32,
) {
    let pot = POT_COLORS[variant % POT_COLORS.len()];
    let leaf_base = *rng.pick(LEAF_COLORS);
    let upright = variant % 2 == 1;
    let pot_height = scale * rng.range(0.28, 0.34);
    let top_half_width = pot_height * rng.range(0.6, 0.72);
    let bottom_half_width = top_half_width * 0.76;
    let rim_ry = top_half_width * 0.22;
    let bottom_y = ground_y - rim_ry * 0.7;
    let top_y = bottom_y - pot_height;
    let rim_height = pot_height * 0.16;
    let rim_half_width = top_half_width * 1.05;

    canvas.soft_shadow(
        cx + top_half_width * 0.4,
        ground_y,
        top_half_width * 1.7,
        rim_ry * 1.7,
        0.3,
        0.0,
    );
    canvas.soft_shadow(
        cx,
        ground_y - rim_ry * 0.4,
        bottom_half_width * 1.2,
        rim_ry * 1.1,
        0.6,
        0.6,
    );

    // The pot tapers towards its base, so each row's half width differs.
    let half_width_at = move |y: f32| {
        let t = ((y - top_y) / pot_height).clamp(0.0, 1.0);
        top_half_width + (bottom_half_width - top_half_width) * t
    };
    canvas.fill(
        move |x, y| {
            let side = (x - cx).abs() - half_width_at(y);
            let column = side.max(top_y - y).max(y - bottom_y);
            column.min(ellipse_distance(
                x - cx,
                y - bottom_y,
                bottom_half_width,
                rim_ry * 0.76,
            ))
        },
        move |x, y| {
            let u = ((x - cx) / half_width_at(y)).clamp(-1.0, 1.0);
            let (diffuse, specular) = cylinder_lighting(u);
            add_rgb(scale_rgb(pot, diffuse), specular * 0.25)
        },
    );
    canvas.fill(
        move |x, y| {
            let band = box_distance(
                x - cx,
                y - (top_y + rim_height / 2.0),
                rim_half_width,
                rim_height / 2.0,
            );
            band.min(ellipse_distance(
                x - cx,
                y - (top_y + rim_height),
                rim_half_width,
                rim_ry,
            ))
        },
        move |x, _| {
            let u = ((x - cx) / rim_half_width).clamp(-1.0, 1.0);
            let (diffuse, specular) = cylinder_lighting(u);
            add_rgb(scale_rgb(pot, diffuse * 1.05), specular * 0.25)
        },
    );
    canvas.fill(
        move |x, y| ellipse_distance(x - cx, y - top_y, rim_half_width, rim_ry),
        move |_, _| scale_rgb(pot, 1.1),
    );
    let soil_seed = rng.next_u32();
    canvas.fill(
        move |x, y| ellipse_distance(x - cx, y - top_y, rim_half_width * 0.88, rim_ry * 0.78),
        move |x, y| {
            let crumbs = fbm(soil_seed, x / 2.5, y / 2.5);
            scale_rgb([0.24, 0.17, 0.11], 0.6 + 0.6 * crumbs)
        },
    );

    let leaf_count = if upright {
        rng.below(5) + 5
    } else {
        rng.below(5) + 8
    };
    let stem_x = cx;
    let stem_y = top_y + rim_ry * 0.1;
    let mut leaves = Vec::new();
    for i in 0..leaf_count {
        let spread = if upright { 0.45 } else { 1.25 };
        let t = (i as f32 + 0.5) / leaf_count as f32 * 2.0 - 1.0;
        let angle = t * spread + rng.range(-0.12, 0.12);
        let leaf_length = scale
            * if upright {
                rng.range(0.42, 0.62) * (1.0 - 0.35 * t.abs())
            } else {
                rng.range(0.28, 0.4)
            };
        let leaf_width = leaf_length
            * if upright {
                rng.range(0.07, 0.1)
            } else {
                rng.range(0.2, 0.26)
            };
        let tint = rng.range(0.8, 1.15);
        let offset = rng.range(-0.25, 0.25) * top_half_width;
        leaves.push((angle, leaf_length, leaf_width, tint, offset));
    }
    // Outer leaves sit behind, so draw from the edges inwards.
    leaves.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
    for (angle, leaf_length, leaf_width, tint, offset) in leaves {
        let bend = if upright { 0.05 } else { 0.35 } * angle.signum();
        let base_x = stem_x + offset;
        let shape = Leaf {
            base_x,
            base_y: stem_y,
            angle,
            length: leaf_length,
            half_width: leaf_width,
            bend,
        };
        let banded = upright;
        canvas.fill(
            move |x, y| shape.distance(x, y),
            move |x, y| {
                let (along, across) = shape.local(x, y);
                let t = (along / shape.length).clamp(0.0, 1.0);
                let mut shade = tint * (0.7 + 0.35 * t);
                // Light from the left: the half of the leaf facing it is
                // lighter, and the midrib is a darker line.
                shade *= if across * angle.cos() < 0.0 {
                    1.08
                } else {
                    0.88
                };
                if across.abs() < shape.half_width * 0.06 {
                    shade *= 0.82;
                }
                if banded {
                    // Wavy pale cross bands, as on a snake plant.
                    let wave = along / (shape.half_width * 0.7)
                        + 2.0 * (across / shape.half_width * 2.5).sin();
                    shade *= 0.93 + 0.09 * wave.sin();
                }
                scale_rgb(leaf_base, shade)
            },
        );
    }
}

#[derive(Clone, Copy)]
struct Leaf {
    base_x: f32,
    base_y: f32,
    /// Angle from vertical in radians, positive towards the right.
    angle: f32,
    length: f32,
    half_width: f32,
    /// How far the tip droops sideways, as a fraction of the length.
    bend: f32,
}

impl Leaf {
    /// Maps a point to (distance along the midrib, signed distance across it).
    fn local(&self, x: f32, y: f32) -> (f32, f32) {
        // Swapping the inputs makes `along` follow the midrib, which points
        // `angle` radians clockwise from straight up.
        let (along, across) = rotate(self.base_y - y, x - self.base_x, self.angle);
        let t = along / self.length;
        (along, across - self.bend * self.length * t * t)
    }

    /// Approximate signed distance: close across the midrib and rougher at the
    /// pointed ends, which is enough for one-pixel antialiasing.
    fn distance(&self, x: f32, y: f32) -> f32 {
        let (along, across) = self.local(x, y);
        let t = along / self.length;
        // sin(PI) is slightly negative in f32, and powf would turn it into NaN.
        let width = self.half_width * (PI * t.clamp(0.0, 1.0)).sin().max(0.0).powf(0.7);
        (across.abs() - width).max(-along).max(along - self.length)
    }
}

// ---------------------------------------------------------------------------
// Geometry, lighting and noise helpers
// ---------------------------------------------------------------------------

/// Expresses the point (x, y) in axes turned `angle` radians counterclockwise,
/// for inputs whose y axis points up.
fn rotate(x: f32, y: f32, angle: f32) -> (f32, f32) {
    let (sin, cos) = angle.sin_cos();
    (x * cos + y * sin, y * cos - x * sin)
}

/// Approximate signed distance to an axis-aligned ellipse centred at the
/// origin, accurate near its outline.
fn ellipse_distance(x: f32, y: f32, rx: f32, ry: f32) -> f32 {
    let f = (x / rx).powi(2) + (y / ry).powi(2) - 1.0;
    let gradient = ((2.0 * x / (rx * rx)).powi(2) + (2.0 * y / (ry * ry)).powi(2)).sqrt();
    f / gradient.max(1e-6)
}

fn box_distance(x: f32, y: f32, half_width: f32, half_height: f32) -> f32 {
    rounded_box_distance(x, y, half_width, half_height, 0.0)
}

fn rounded_box_distance(x: f32, y: f32, half_width: f32, half_height: f32, radius: f32) -> f32 {
    let qx = x.abs() - half_width + radius;
    let qy = y.abs() - half_height + radius;
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0) - radius
}

/// Computes the brightness (ambient plus Lambert diffuse) and the Blinn-Phong
/// specular term for a vertical cylinder at horizontal position `u` (-1 left
/// edge, 1 right edge), lit from the front left.
fn cylinder_lighting(u: f32) -> (f32, f32) {
    let normal = [u, 0.0, (1.0 - u * u).max(0.0).sqrt()];
    let light = normalize([-0.55, 0.0, 0.83]);
    let half = normalize([light[0], light[1], light[2] + 1.0]);
    let diffuse = dot(normal, light).max(0.0);
    let specular = dot(normal, half).max(0.0).powf(40.0);
    (0.28 + 0.72 * diffuse, specular)
}

fn dot(a: [f32; 3], b: [f32; 3]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn normalize(v: [f32; 3]) -> [f32; 3] {
    let length = dot(v, v).sqrt();
    [v[0] / length, v[1] / length, v[2] / length]
}

/// Uniform Catmull-Rom spline through `points` at fractional index `t`,
/// clamped to the first and last point.
fn catmull_rom(points: &[f32], t: f32) -> f32 {
    let last = points.len() - 1;
    let t = t.clamp(0.0, last as f32);
    let i = (t.floor() as usize).min(last - 1);
    let f = t - i as f32;
    let p0 = points[i.saturating_sub(1)];
    let (p1, p2) = (points[i], points[i + 1]);
    let p3 = points[(i + 2).min(last)];
    0.5 * (2.0 * p1
        + (p2 - p0) * f
        + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * f * f
        + (3.0 * p1 - p0 - 3.0 * p2 + p3) * f * f * f)
}

fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn scale_rgb(color: Rgb, factor: f32) -> Rgb {
    [color[0] * factor, color[1] * factor, color[2] * factor]
}

fn add_rgb(color: Rgb, amount: f32) -> Rgb {
    [color[0] + amount, color[1] + amount, color[2] + amount]
}

fn mix_rgb(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Hashes a lattice point and a seed by chaining the "lowbias32" integer
/// hash, so nearby points give unrelated values.
fn hash3(x: u32, y: u32, seed: u32) -> u32 {
    lowbias32(x ^ lowbias32(y ^ lowbias32(seed)))
}

/// Chris Wellons' "lowbias32", from <https://nullprogram.com/blog/2018/07/31/>.
fn lowbias32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

fn unit_from_hash(h: u32) -> f32 {
    (h >> 8) as f32 / (1u32 << 24) as f32
}

/// Approximately normal noise with mean 0 and standard deviation 1, from the
/// sum of four uniform values taken from one hash.
fn gaussian_noise(h: u32) -> f32 {
    let sum: u32 = (0..4).map(|i| (h >> (8 * i)) & 0xff).sum();
    // Four uniforms on 0..=255 have mean 510 and standard deviation about 147.8.
    (sum as f32 - 510.0) / 147.8
}

/// Bilinear value noise in 0..1 with smoothstep interpolation.
fn value_noise(seed: u32, x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let (ix, iy) = (x0 as i32 as u32, y0 as i32 as u32);
    let corner =
        |dx: u32, dy: u32| unit_from_hash(hash3(ix.wrapping_add(dx), iy.wrapping_add(dy), seed));
    let top = corner(0, 0) + (corner(1, 0) - corner(0, 0)) * sx;
    let bottom = corner(0, 1) + (corner(1, 1) - corner(0, 1)) * sx;
    top + (bottom - top) * sy
}

/// Three octaves of value noise, in 0..1.
fn fbm(seed: u32, x: f32, y: f32) -> f32 {
    let mut sum = 0.0;
    let mut amplitude = 0.5;
    let mut frequency = 1.0;
    for octave in 0..3 {
        sum += amplitude * value_noise(seed.wrapping_add(octave), x * frequency, y * frequency);
        amplitude *= 0.5;
        frequency *= 2.0;
    }
    sum / 0.875
}

/// SplitMix64 generator, seeded by the sample index so each image gets its
/// own fixed colours and layout.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed_5a3b_1e5a_0001)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in 0..1.
    fn next_f32(&mut self) -> f32 {
        unit_from_hash(self.next_u32())
    }

    fn range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.next_f32()
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
