//! What ws2sim tells about itself: `models`, `explain`, completions, the manual page,
//! the model choices, and the README's commands, which must run as written.

use super::*;

#[test]
fn models_and_explain_list_what_exists() {
    let out = ws2sim(&["models", "--format", "json"]);
    let models: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let names: Vec<&str> = models["models"]
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(names.contains(&"racy_refcount"));
    assert!(names.contains(&"cleans_up_first_provider_only"));
    // A model whose knob breaks two contracts lists both, as its run's header does, and
    // `explain` names it under each.
    let dllmain = models["models"]
        .as_array()
        .expect("an array")
        .iter()
        .find(|m| m["name"] == "lsp_cleans_lower_in_dllmain")
        .expect("listed");
    assert_eq!(dllmain["breaks"], "loader.no_wait_under_loader_lock");
    assert_eq!(
        dllmain["also_breaks"],
        serde_json::json!(["lsp.lower_balanced"])
    );
    let header = stdout(&ws2sim(&["run", "scenarios/teach/dllmain-deadlock.ron"]));
    assert!(
        header.contains("(a mutant: breaks loader.no_wait_under_loader_lock, lsp.lower_balanced)"),
        "{header}"
    );
    let text = stdout(&ws2sim(&["models"]));
    assert!(text.contains("lsp_cleans_lower_in_dllmain               breaks loader.no_wait_under_loader_lock, lsp.lower_balanced"), "{text}");
    // Every value says what it breaks, a value no built-in model sets too, by kind
    // where that differs.
    for line in [
        "  machine_state: ExclusiveLock breaks wsp.crash_tolerant\n",
        "  not_started: Einval breaks wsp.cleanup.not_initialised (Transport), san.cleanup.no_einval (San)\n",
        "  final_cleanup.worker: Detach breaks wsp.cleanup.unload_ready (Transport, San), nsp.cleanup.unload_ready (Namespace V1)\n",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    for contract in ["loader.no_wait_under_loader_lock", "lsp.lower_balanced"] {
        let out = stdout(&ws2sim(&["explain", contract]));
        let mutants = out
            .lines()
            .find(|l| l.starts_with("Mutants that break it:"));
        assert!(
            mutants.is_some_and(|l| l.contains("lsp_cleans_lower_in_dllmain (Transport)")),
            "{contract}: {out}"
        );
    }
    // A value that breaks a second contract only in some runs: the kinds listed once,
    // with their versions, then the runs.
    let out = stdout(&ws2sim(&["explain", "loader.no_code_after_unload"]));
    assert!(
        out.contains("final_cleanup.worker: Detach (Transport, San, Namespace V1; where the DLL is unloaded before the detached thread has exited)"),
        "{out}"
    );
    let out = ws2sim(&["explain", "wsp.cleanup.lingering_data_sent"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("003"));
    // A page's "should" is named as such where ws2sim holds it as a rule, and only there.
    assert!(!stdout(&out).contains("\"should\""), "{}", stdout(&out));
    let out = stdout(&ws2sim(&["explain", "wsp.cleanup.unload_ready"]));
    let said = "003 says \"should\" there, a recommendation in Microsoft's wording: ws2sim holds a provider to it as to a rule.";
    assert!(out.contains(said), "{out}");
    let out = stdout(&ws2sim(&["explain", "nspv2.optional_stub"]));
    assert!(out.contains("000 and 001 say \"should\" there"), "{out}");
    let out = ws2sim(&["explain", "spi.return_convention"]);
    assert!(stdout(&out).contains("Errata"), "{}", stdout(&out));
    let out = ws2sim(&["explain", "--model-choices"]);
    assert_eq!(out.status.code(), Some(0));
    for topic in [
        "NSPv2 hosting",
        "WSAEINTR",
        "WSAENETDOWN",
        "alertable",
        "TCP catalog entry",
    ] {
        assert!(stdout(&out).contains(topic), "{topic}: {}", stdout(&out));
    }
}

/// Shell completions and the manual page come from the same command definition as
/// `--help` (issue 23).
#[test]
fn completions_and_the_manual_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = ws2sim(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        for word in ["ws2sim", "explore", "provider-model", "contracts"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    assert_eq!(ws2sim(&["completions", "tcsh"]).status.code(), Some(2));
    let out = ws2sim(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(page.contains(".TH ws2sim 1"), "{page}");
    // One page holds every command's options: it points at no page of its own per
    // command, which ws2sim does not install.
    for command in ["run", "replay", "explore", "merge", "check", "explain"] {
        let heading = format!(".SH \"WS2SIM {}\"", command.to_uppercase());
        assert!(page.contains(&heading), "the page lacks {heading}");
    }
    assert!(!page.contains("ws2sim\\-run(1)"), "{page}");
    assert!(
        page.contains("\\-\\-strategy"),
        "explore's options are on the page"
    );
    assert!(
        page.contains("Exit codes"),
        "the exit codes are on the page"
    );
}

/// `docs/model.md` holds every model choice and every contract's model choice, word for
/// word, so that the repository's own page cannot drift from the simulator (issue 23).
#[test]
fn the_model_page_holds_every_choice() {
    let page = include_str!("../../docs/model.md");
    for choice in ws2sim::choices::MODEL_CHOICES {
        assert!(
            page.contains(&format!("## {}", choice.topic)),
            "{}",
            choice.topic
        );
        assert!(page.contains(choice.choice), "{}", choice.topic);
    }
    for contract in ws2sim::contract::CONTRACTS {
        if let Some(choice) = contract.model_choice {
            let line = format!("- `{}`: {choice}", contract.id);
            assert!(page.contains(&line), "{}", contract.id);
        }
    }
}

/// The commands README.md shows, each cut at the end of its code span or at the two
/// spaces before a description; those with a placeholder (`FILE`, `N`, `[...]`, `|`, a
/// shell variable or a redirection) are templates, not commands.
fn readme_commands() -> Vec<Vec<String>> {
    let readme = include_str!("../../README.md");
    let mut commands = Vec::new();
    for line in readme.lines() {
        for prefix in ["ws2sim ", "cargo run --release -- "] {
            let mut rest = line;
            while let Some(at) = rest.find(prefix) {
                let before = &rest[..at];
                let inline = before.ends_with('`');
                let starts = before.trim_start_matches("$ ").trim().is_empty();
                let tail = &rest[at + prefix.len()..];
                rest = tail;
                if !inline && !starts {
                    continue;
                }
                let end = if inline {
                    tail.find('`')
                } else {
                    tail.find("  ")
                };
                let text = &tail[..end.unwrap_or(tail.len())];
                let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
                let template = words.iter().any(|w| {
                    w.chars().any(|c| "|[]$>*.·".contains(c)) && !w.contains('/')
                        || w.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                        || w.contains("...")
                        || w.contains('$')
                });
                // A bare command name in prose (`ws2sim explore` finds it) names the
                // command; only those complete without an argument are commands.
                let named_only =
                    words.len() == 1 && !["explain", "models", "man"].contains(&words[0].as_str());
                if !words.is_empty() && !template && !named_only {
                    commands.push(words);
                }
            }
        }
    }
    commands
}

/// Every command README.md shows runs: it exits 0 or 1 (a run that did not match its
/// `expect`, a sweep that found a violation), never 2 (issue 23).
#[test]
fn the_readme_commands_run() {
    let commands = readme_commands();
    assert!(commands.len() >= 10, "{commands:?}");
    for runnable in [
        &["run", "scenarios/contracts/lingering-data.ron"][..],
        &["explore", "scenarios/teach/racy-refcount.ron"][..],
        &["explain", "--model-choices"][..],
    ] {
        assert!(
            commands.iter().any(|c| c == runnable),
            "{runnable:?} not found"
        );
    }
    for words in &commands {
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let out = ws2sim(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// The contract list says which contracts ws2sim reads with a model choice beside the
/// seeds they come from, and which no seed states.
#[test]
fn the_contract_list_marks_the_model_choices() {
    let list = stdout(&ws2sim(&["explain"]));
    let line = |id: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} listed: {list}"))
            .to_string()
    };
    assert!(
        line("loader.no_code_after_unload").ends_with("seed 002, 003, read with a model choice")
    );
    assert!(
        line("loader.no_wait_under_loader_lock").ends_with("model choice (the seeds are silent)")
    );
    assert!(line("wsp.cleanup.lingering_data_sent").ends_with("seed 003"));
}
