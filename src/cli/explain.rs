//! `ws2sim explain` and `ws2sim models`: the contract table, each contract's rule,
//! source and model choice, every model choice, and the provider models.

use super::ListFormat;
use crate::contract::{self, CONTRACTS};
use crate::scenario;

/// `ws2sim explain --model-choices`: every model choice, topic first.
pub(super) fn explain_choices() -> String {
    let mut text =
        String::from("Where ws2sim decides what the seed documents leave open (model choices):\n");
    for choice in crate::choices::MODEL_CHOICES {
        text.push_str(&format!("\n{}\n  {}\n", choice.topic, choice.choice));
    }
    text
}

pub fn models(format: ListFormat) -> String {
    match format {
        ListFormat::Json => crate::render::models::json(),
        ListFormat::Text => crate::render::models::text(),
    }
}

/// The error for `explain ID` with no such contract, with the likeliest one meant.
pub(super) fn unknown_contract(id: &str) -> String {
    let hint = scenario::schema::closest(id, CONTRACTS.iter().map(|c| c.id.as_str()))
        .map_or(String::new(), |near| format!("did you mean `{near}`? "));
    format!("no contract `{id}`; {hint}`ws2sim explain` lists them")
}

pub fn explain_list() -> String {
    let width = CONTRACTS
        .iter()
        .map(|c| c.id.as_str().len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for contract in CONTRACTS {
        let seeds: Vec<_> = contract.seeds.iter().map(|s| s.number()).collect();
        let source = if seeds.is_empty() {
            "model choice (the seeds are silent)".to_string()
        } else if contract.model_choice.is_some() {
            format!("seed {}, read with a model choice", seeds.join(", "))
        } else {
            format!("seed {}", seeds.join(", "))
        };
        let checked = if crate::oracle::is_checked(contract) {
            ""
        } else {
            "  (not checked yet)"
        };
        text.push_str(&format!("{:<width$}  {source}{checked}\n", contract.id));
    }
    text.push_str("\nThe seed documents:\n");
    for seed in contract::Seed::ALL {
        text.push_str(&format!(
            "  {}  {}\n       {}\n",
            seed.number(),
            seed.listed(),
            seed.page()
        ));
    }
    text.push_str(
        "\n`ws2sim explain ID` gives a contract's rule, source and errata; \
         `ws2sim explain --model-choices` lists where ws2sim decides what the seeds leave open.\n",
    );
    text
}

pub fn explain(contract: &contract::Contract) -> String {
    let mut text = format!("{}\n\n{}\n\n", contract.id, contract.rule);
    text.push_str("Source:\n");
    for seed in contract.seeds {
        text.push_str(&format!(
            "  {} — {}, {}\n",
            seed.number(),
            seed.listed(),
            seed.page()
        ));
    }
    text.push_str(&format!("  {}\n", contract.source));
    let should = contract.should_in();
    if !should.is_empty() {
        let pages: Vec<_> = should.iter().map(|s| s.number()).collect();
        let pages = pages.join(" and ");
        let says = if should.len() == 1 { "says" } else { "say" };
        text.push_str(&format!(
            "  {pages} {says} \"should\" there, a recommendation in Microsoft's wording: \
             ws2sim holds a provider to it as to a rule.\n"
        ));
    }
    if let Some(choice) = contract.model_choice {
        text.push_str(&format!(
            "\nModel choice (ws2sim's reading where the seeds are silent or leave room):\n  {choice}\n"
        ));
    }
    if !contract.errata.is_empty() {
        text.push_str("\nErrata in the seed documents:\n");
        for erratum in contract.errata {
            text.push_str(&format!("  - {erratum}\n"));
        }
    }
    let mutants = crate::render::models::mutants_of(contract.id.as_str());
    if !mutants.is_empty() {
        text.push_str(&format!(
            "\nMutants that break it: {}\n",
            mutants.join(", ")
        ));
    }
    let knobs = crate::render::models::knobs_breaking(contract.id.as_str());
    if !knobs.is_empty() {
        text.push_str(&format!(
            "Knob values that break it: {}\n",
            knobs.join(", ")
        ));
    }
    text
}
