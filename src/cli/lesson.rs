//! `ws2sim lesson [N]`: the guided path of `docs/lessons.md` in the terminal, one
//! lesson at a time, its answers folded away unless asked for.

use std::process::ExitCode;

use super::{fail, print};

const PAGE: &str = include_str!("../../docs/lessons.md");

/// Print the guided lessons: the list, or lesson N with its exercises.
#[derive(clap::Args, Debug)]
pub struct LessonArgs {
    /// The lesson's number; without it, the list of lessons.
    #[arg(
        allow_negative_numbers = true,
        value_parser = super::whole_number::<u32>(1, lessons().len() as u64),
    )]
    pub number: Option<u32>,
    /// Show the exercises' answers too.
    #[arg(long, requires = "number")]
    pub answers: bool,
}

/// The lessons of the page: (number, title, text of the section).
fn lessons() -> Vec<(u32, &'static str, &'static str)> {
    let mut found = Vec::new();
    let starts: Vec<usize> = PAGE.match_indices("\n## ").map(|(at, _)| at + 1).collect();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(PAGE.len());
        let section = &PAGE[start..end];
        let heading = section.lines().next().unwrap_or("");
        let Some((number, title)) = heading.trim_start_matches("## ").split_once(". ") else {
            continue;
        };
        if let Ok(number) = number.parse() {
            found.push((number, title, section));
        }
    }
    found
}

/// `section` with each `<details>` answer folded to a line, or unfolded (`answers`).
fn shown(section: &str, number: u32, answers: bool) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in section.lines() {
        match line.trim() {
            l if l.starts_with("<details>") => {
                inside = true;
                if !answers {
                    out.push_str(&format!("(answer: `ws2sim lesson {number} --answers`)\n"));
                }
            }
            "</details>" => inside = false,
            _ if inside && !answers => {}
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

pub fn lesson(args: &LessonArgs) -> ExitCode {
    let lessons = lessons();
    let Some(number) = args.number else {
        let mut list = String::from("The lessons, in order (`ws2sim lesson N` shows one):\n\n");
        for (number, title, _) in &lessons {
            list.push_str(&format!("{number:>3}. {title}\n"));
        }
        print(&list);
        return ExitCode::SUCCESS;
    };
    match lessons.iter().find(|(n, _, _)| *n == number) {
        Some((_, _, section)) => {
            print(&shown(section, number, args.answers));
            ExitCode::SUCCESS
        }
        None => fail(&format!(
            "there is no lesson {number}: they are numbered 1 to {}",
            lessons.len()
        )),
    }
}
