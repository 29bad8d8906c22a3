//! How the demo shows its progress: one line per step, or the kitchen's popup drawn live
//! with ratatui when stdout is a terminal.

use ratatui::DefaultTerminal;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph};
use sip_ua::popup::{RegistrationView, Snapshot};

/// The demo's display.
pub struct Ui {
    terminal: Option<DefaultTerminal>,
    steps: Vec<(&'static str, bool)>,
    log: Vec<String>,
}

impl Ui {
    /// A display for `steps`; draws with ratatui when `terminal` is true.
    pub fn new(terminal: bool, steps: &[&'static str]) -> Ui {
        Ui {
            terminal: terminal.then(ratatui::init),
            steps: steps.iter().map(|s| (*s, false)).collect(),
            log: Vec::new(),
        }
    }

    /// Marks step `name` done (an empty name only logs) and reports `text`.
    pub fn step(&mut self, name: &str, text: String) {
        if let Some(step) = self.steps.iter_mut().find(|(n, _)| *n == name) {
            step.1 = true;
        }
        if self.terminal.is_none() {
            println!("[{}] {text}", self.log.len() + 1);
        }
        self.log.push(text);
    }

    /// Whether step `name` is done.
    pub fn done(&self, name: &str) -> bool {
        self.steps.iter().any(|(n, d)| *n == name && *d)
    }

    /// The steps not done.
    pub fn missing(&self) -> Vec<&'static str> {
        self.steps
            .iter()
            .filter(|(_, d)| !d)
            .map(|(n, _)| *n)
            .collect()
    }

    /// Draws the popup (terminal mode only).
    pub fn draw(&mut self, popup: &Snapshot) {
        let Some(terminal) = &mut self.terminal else {
            return;
        };
        let log = &self.log;
        let _ = terminal.draw(|frame| {
            let [header, call, buttons, bars, steps] = Layout::vertical([
                Constraint::Length(1),
                Constraint::Length(4),
                Constraint::Length(3),
                Constraint::Length(8),
                Constraint::Min(3),
            ])
            .areas(frame.area());
            let registration = match &popup.registration {
                RegistrationView::Registered => "● registered".green(),
                RegistrationView::Failed { reason, .. } => format!("● failed: {reason}").red(),
                other => format!("● {other:?}").to_lowercase().yellow(),
            };
            frame.render_widget(
                Line::from(vec![
                    "Kitchen tablet — Sipline popup demo   ".bold(),
                    registration,
                ]),
                header,
            );
            let call_text = match popup.focused() {
                Some(c) => vec![
                    Line::from(format!(
                        "{}  {}",
                        c.remote_name.clone().unwrap_or_else(|| "(hidden)".into()),
                        c.camera_entity.clone().unwrap_or_default()
                    ))
                    .bold(),
                    Line::from(format!("{}   {}", c.state.as_str(), c.duration)),
                ],
                None => vec![Line::from(match &popup.last_ended {
                    Some(e) => format!("call ended: {}", e.cause),
                    None => "no call".to_owned(),
                })],
            };
            let title = if popup.open {
                "popup (open)"
            } else {
                "popup (closed)"
            };
            frame.render_widget(
                Paragraph::new(call_text).block(Block::bordered().title(title)),
                call,
            );
            let labels: Vec<String> = popup
                .buttons
                .iter()
                .map(|b| match b.enabled {
                    true => format!("[ {} ]", b.label),
                    false => format!("( {} )", b.label),
                })
                .collect();
            frame.render_widget(
                Paragraph::new(labels.join("  ")).block(Block::bordered().title("buttons")),
                buttons,
            );
            let data: Vec<Bar<'_>> = popup
                .visualiser
                .remote
                .bands
                .iter()
                .map(|b| Bar::default().value((b.clamp(0.0, 1.0) * 100.0) as u64))
                .collect();
            frame.render_widget(
                BarChart::default()
                    .block(Block::bordered().title("visualiser (remote)"))
                    .bar_width(2)
                    .max(100)
                    .bar_style(Style::default().fg(Color::Cyan))
                    .data(BarGroup::default().bars(&data)),
                bars,
            );
            let lines: Vec<Line<'_>> = log.iter().map(|l| Line::from(l.as_str())).collect();
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title("steps")),
                steps,
            );
        });
    }

    /// Restores the terminal and, in terminal mode, prints the steps that were drawn.
    pub fn finish(&mut self) {
        if self.terminal.take().is_some() {
            ratatui::restore();
            for (i, line) in self.log.iter().enumerate() {
                println!("[{}] {line}", i + 1);
            }
        }
    }
}
