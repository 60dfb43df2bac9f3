//! Draws the canary screen's view: the status gets the rows its wrapped lines need, the
//! charts the rest, the keys always their two lines.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, BorderType, Chart, Dataset, GraphType, Paragraph, Wrap};

use super::view::{self, CanaryView, Keys};
use crate::config::Protection;
use crate::ui::text;
use crate::ui::theme::{self, Tone};

pub fn render(frame: &mut Frame, area: Rect, view: &CanaryView) {
    let border = if view.protection == Protection::Typed { BorderType::Thick } else { BorderType::Rounded };
    let env_style = theme::style(Tone::Env(view.color));
    let title = Line::from(vec![
        Span::styled(" Canary ", theme::BOLD),
        Span::styled(format!("{}/{} ", view.env, view.app), env_style.add_modifier(Modifier::BOLD)),
        Span::raw(format!("· {} ", view.provider)),
    ]);
    let block = Block::bordered().border_type(border).border_style(env_style).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let status = text::lines(&view.status);
    // Wrapped, on a narrow terminal a line takes more than one row: the verdict below the
    // figures must never be the part that is cut.
    let width = usize::from(inner.width.max(1));
    let status_rows: usize = status.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    let [top, gauge, status_area, charts, auto_area, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(status_rows as u16),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(2),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(text::line(&view.steps)), top);
    render_gauge(frame, gauge, &view.gauge);
    frame.render_widget(Paragraph::new(status).wrap(Wrap { trim: false }), status_area);
    if charts.height >= 5 {
        match &view.charts {
            Some([error, latency]) => {
                let [left, right] =
                    Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts);
                render_chart(frame, left, error);
                render_chart(frame, right, latency);
            }
            None => {
                frame.render_widget(Paragraph::new(Line::styled(view.no_charts.clone(), theme::DIM)), charts);
            }
        }
    }
    frame.render_widget(Paragraph::new(text::line(&view.auto)), auto_area);
    frame.render_widget(Paragraph::new(key_lines(&view.keys)).wrap(Wrap { trim: false }), keys);
}

/// `weight  10% of traffic  ████░░░░░░░░…`: the canary's share filled, stable's empty.
fn render_gauge(frame: &mut Frame, area: Rect, gauge: &view::Gauge) {
    let width = usize::from(area.width).saturating_sub(8 + gauge.label.chars().count()).min(100);
    let filled = (width * gauge.weight as usize + 50) / 100;
    let line = Line::from(vec![
        Span::styled("weight  ", theme::DIM),
        Span::raw(gauge.label.clone()),
        Span::styled("█".repeat(filled), Style::new().fg(theme::CANARY)),
        Span::styled("░".repeat(width - filled), Style::new().fg(theme::STABLE).add_modifier(Modifier::DIM)),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn render_chart(frame: &mut Frame, area: Rect, spec: &view::Chart) {
    let top = spec.top;
    let clip =
        |points: &[(f64, f64)]| -> Vec<(f64, f64)> { points.iter().map(|(x, y)| (*x, y.min(top))).collect() };
    let (stable, canary) = (clip(&spec.stable), clip(&spec.canary));
    let limit_lines: Vec<Vec<(f64, f64)>> =
        spec.limits.iter().map(|(_, y)| vec![(spec.oldest, *y), (0.0, *y)]).collect();
    // Limits first, so the tracks are drawn over them where they cross.
    let mut datasets: Vec<Dataset> = spec
        .limits
        .iter()
        .zip(&limit_lines)
        .map(|((name, _), line)| {
            Dataset::default()
                .name(name.clone())
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(Color::Red))
                .data(line)
        })
        .collect();
    for (name, points, color) in [("stable", &stable, theme::STABLE), ("canary", &canary, theme::CANARY)] {
        datasets.push(
            Dataset::default()
                .name(name)
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(color))
                .data(points),
        );
    }
    let minutes = (-spec.oldest / 60.0).ceil();
    let chart = Chart::new(datasets)
        .block(
            Block::bordered()
                .border_type(BorderType::Plain)
                .border_style(theme::DIM)
                .title(spec.title.clone()),
        )
        .x_axis(
            Axis::default()
                .bounds([spec.oldest, 0.0])
                .labels([Line::raw(format!("-{minutes:.0}m")), Line::raw("now")])
                .style(theme::DIM),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels([
                    Line::raw(format!("0{}", spec.unit)),
                    Line::raw(format!("{}{top:.1}{}", if spec.clipped { "≥" } else { "" }, spec.unit)),
                ])
                .style(theme::DIM),
        )
        .legend_position(Some(ratatui::widgets::LegendPosition::TopLeft))
        .hidden_legend_constraints((Constraint::Ratio(1, 1), Constraint::Ratio(1, 1)));
    frame.render_widget(chart, area);
}

fn key_lines(keys: &Keys) -> Vec<Line<'static>> {
    match keys {
        Keys::Typing(row) => vec![text::line(row)],
        Keys::Lines { refused, lines } => refused
            .iter()
            .map(|note| Line::styled(note.clone(), theme::WARN))
            .chain(lines.iter().map(|hints| Line::from(text::key_spans(hints))))
            .collect(),
    }
}
