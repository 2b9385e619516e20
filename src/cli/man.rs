//! `ws2sim man`: one manual page for the program and every command. clap_mangen writes
//! the program's page with a SUBCOMMANDS section that points at a page per command
//! (`ws2sim-run(1)`), which ws2sim does not install; this page holds each command's
//! synopsis and options itself instead.

use clap::CommandFactory;

use super::args::Cli;

/// The page, in roff.
pub fn page() -> Result<String, std::io::Error> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let man = clap_mangen::Man::new(cli.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    let commands: Vec<&clap::Command> =
        cli.get_subcommands().filter(|c| !c.is_hide_set()).collect();
    page.extend_from_slice(b".SH COMMANDS\n");
    for command in &commands {
        let about = command
            .get_about()
            .map(|a| a.to_string())
            .unwrap_or_default();
        page.extend_from_slice(
            format!(
                ".TP\n\\fBws2sim {}\\fR\n{}\n",
                command.get_name(),
                escape(&about)
            )
            .as_bytes(),
        );
    }
    // Each command's own synopsis and options, under a heading of its own.
    for command in commands {
        page.extend_from_slice(
            format!(".SH \"WS2SIM {}\"\n", command.get_name().to_uppercase()).as_bytes(),
        );
        let man = clap_mangen::Man::new(command.clone());
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        if command.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut part)?;
        }
        for line in String::from_utf8_lossy(&part).lines() {
            match line.strip_prefix(".SH ") {
                Some(heading) => page.extend_from_slice(format!(".SS {heading}\n").as_bytes()),
                None => page.extend_from_slice(format!("{line}\n").as_bytes()),
            }
        }
    }
    // The program's closing text (the exit codes).
    man.render_extra_section(&mut page)?;
    man.render_version_section(&mut page)?;
    // Each section rendered alone defines the apostrophe string again: once will do.
    let (mut ie, mut el) = (false, false);
    let mut text = String::new();
    for line in String::from_utf8_lossy(&page).lines() {
        let again = if line.starts_with(".ie \\n(.g .ds Aq") {
            std::mem::replace(&mut ie, true)
        } else if line.starts_with(".el .ds Aq") {
            std::mem::replace(&mut el, true)
        } else {
            false
        };
        if !again {
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok(text)
}

/// `text` as roff text: backslashes and hyphens escaped, and no line read as a request.
fn escape(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = line.replace('\\', "\\e").replace('-', "\\-");
            if line.starts_with(['.', '\'']) {
                format!("\\&{line}")
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
