//! Charts drawn on the server as SVG: no script, no external file, sharp
//! on paper. Colours are presentation attributes (the console's
//! Content-Security-Policy forbids inline styles); every bar carries its
//! number as text, so nothing is said by colour alone.

/// Escapes text for SVG.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A vertical bar chart (months, etc.): `bars` are (label, value), `None`
/// for no figure (drawn as `—`, not as zero); `max` fixes the scale (e.g.
/// 100 for a percentage), else the largest bar.
pub fn columns(
    title: &str,
    bars: &[(String, Option<f64>)],
    max: Option<f64>,
    unit: &str,
) -> String {
    let (w, h, left, bottom, top) = (720.0, 300.0, 48.0, 40.0, 36.0);
    let top_value = max
        .unwrap_or_else(|| bars.iter().filter_map(|b| b.1).fold(0.0, f64::max))
        .max(1.0);
    let n = bars.len().max(1) as f64;
    let slot = (w - left - 8.0) / n;
    let bar = (slot * 0.7).min(60.0);
    let plot = h - bottom - top;
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}" class="chart"><title>{t}</title><text x="0" y="20" font-size="18" font-weight="bold" fill="#111">{t}</text><line x1="{left}" y1="{base}" x2="{w}" y2="{base}" stroke="#767676"/>"##,
        t = esc(title),
        base = h - bottom,
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let Some(value) = *value else {
            out.push_str(&format!(
                r##"<text x="{cx:.1}" y="{ty:.1}" font-size="13" text-anchor="middle" fill="#444">—</text><text x="{cx:.1}" y="{ly:.1}" font-size="12" text-anchor="middle" fill="#444">{l}</text>"##,
                cx = x + bar / 2.0,
                ty = h - bottom - 4.0,
                ly = h - bottom + 16.0,
                l = esc(label),
            ));
            continue;
        };
        let height = (value / top_value * plot).max(0.0);
        let y = h - bottom - height;
        out.push_str(&format!(
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{height:.1}" fill="#0a4d8c"/><text x="{cx:.1}" y="{ty:.1}" font-size="13" text-anchor="middle" fill="#111">{v}{u}</text><text x="{cx:.1}" y="{ly:.1}" font-size="12" text-anchor="middle" fill="#444">{l}</text>"##,
            cx = x + bar / 2.0,
            ty = y - 4.0,
            ly = h - bottom + 16.0,
            v = if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") },
            u = esc(unit),
            l = esc(label),
        ));
    }
    out.push_str("</svg>");
    out
}

/// A horizontal bar chart (categories with long names).
pub fn rows(title: &str, bars: &[(String, f64)], unit: &str) -> String {
    let (w, row, left, top) = (720.0, 28.0, 220.0, 36.0);
    let h = top + row * bars.len().max(1) as f64 + 8.0;
    let top_value = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1.0);
    let span = w - left - 80.0;
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}" class="chart"><title>{t}</title><text x="0" y="20" font-size="18" font-weight="bold" fill="#111">{t}</text>"##,
        t = esc(title),
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let len = value / top_value * span;
        out.push_str(&format!(
            r##"<text x="{lx}" y="{ty:.1}" font-size="13" text-anchor="end" fill="#111">{l}</text><rect x="{left}" y="{ry:.1}" width="{len:.1}" height="18" fill="#0a4d8c"/><text x="{vx:.1}" y="{ty:.1}" font-size="13" fill="#111">{v:.0}{u}</text>"##,
            lx = left - 8.0,
            ty = y + 14.0,
            ry = y + 1.0,
            vx = left + len + 6.0,
            l = esc(label),
            v = value,
            u = esc(unit),
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_say_their_number() {
        let svg = columns(
            "参加者",
            &[
                ("4月".into(), Some(10.0)),
                ("5月".into(), Some(5.0)),
                ("6月".into(), None),
            ],
            None,
            "人",
        );
        assert!(svg.contains(">—<"), "no figure is not zero");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("10人") && svg.contains("5人"));
        assert!(
            svg.contains(r#"height="224.0""#),
            "the largest fills the plot: {svg}"
        );
        assert!(svg.contains(r#"height="112.0""#));
        assert!(!svg.contains("style="), "no inline styles under the CSP");
    }

    #[test]
    fn labels_are_escaped() {
        let svg = rows("分類", &[("<script>".into(), 1.0)], "件");
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
    }
}
