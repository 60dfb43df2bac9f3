//! A ratatui buffer as an SVG picture: each row's runs of same-styled cells as text over their
//! background, in a terminal palette. For the README's screenshots, made from the real
//! renderer's output.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const CELL_W: f64 = 8.4;
const CELL_H: f64 = 17.0;
const FG: &str = "#d4d4d4";
const BG: &str = "#1b1d23";

fn hex(color: Color, default: &str) -> String {
    match color {
        // The palette's own default; an indexed colour is drawn as the default too.
        Color::Reset | Color::Indexed(_) => default.to_owned(),
        Color::Black => "#1b1d23".into(),
        Color::Red => "#e06c75".into(),
        Color::Green => "#98c379".into(),
        Color::Yellow => "#e5c07b".into(),
        Color::Blue => "#61afef".into(),
        Color::Magenta => "#c678dd".into(),
        Color::Cyan => "#56b6c2".into(),
        Color::Gray => "#abb2bf".into(),
        Color::DarkGray => "#5c6370".into(),
        Color::LightRed => "#ff7b86".into(),
        Color::LightGreen => "#b5e890".into(),
        Color::LightYellow => "#ffd68a".into(),
        Color::LightBlue => "#7cc4ff".into(),
        Color::LightMagenta => "#e19bf0".into(),
        Color::LightCyan => "#7fdbe6".into(),
        Color::White => "#ffffff".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The buffer as a standalone SVG document.
pub fn render(buffer: &Buffer, title: &str) -> String {
    let area = buffer.area;
    let (width, height) = (f64::from(area.width) * CELL_W, f64::from(area.height) * CELL_H);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">\n<title>{}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"{BG}\"/>\n<g font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"14\" xml:space=\"preserve\">\n",
        escape(title)
    );
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let cell = &buffer[(x, y)];
            let style = (cell.fg, cell.bg, cell.modifier);
            let start = x;
            let mut text = String::new();
            while x < area.width && (buffer[(x, y)].fg, buffer[(x, y)].bg, buffer[(x, y)].modifier) == style {
                text.push_str(buffer[(x, y)].symbol());
                x += 1;
            }
            let (mut fg, mut bg) = (hex(cell.fg, FG), hex(cell.bg, BG));
            if cell.modifier.contains(Modifier::REVERSED) {
                std::mem::swap(&mut fg, &mut bg);
            }
            let px = f64::from(start) * CELL_W;
            let py = f64::from(y) * CELL_H;
            if bg != BG {
                let w = f64::from(x - start) * CELL_W;
                let _ = writeln!(
                    out,
                    "<rect x=\"{px:.1}\" y=\"{py:.1}\" width=\"{w:.1}\" height=\"{CELL_H}\" fill=\"{bg}\"/>"
                );
            }
            if text.trim().is_empty() {
                continue;
            }
            let mut attrs = format!("fill=\"{fg}\"");
            if cell.modifier.contains(Modifier::BOLD) {
                attrs.push_str(" font-weight=\"bold\"");
            }
            if cell.modifier.contains(Modifier::DIM) {
                attrs.push_str(" opacity=\"0.6\"");
            }
            if cell.modifier.contains(Modifier::UNDERLINED) {
                attrs.push_str(" text-decoration=\"underline\"");
            }
            let _ = writeln!(
                out,
                "<text x=\"{px:.1}\" y=\"{:.1}\" textLength=\"{:.1}\" lengthAdjust=\"spacingAndGlyphs\" {attrs}>{}</text>",
                py + CELL_H * 0.78,
                f64::from(x - start) * CELL_W,
                escape(&text)
            );
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}
