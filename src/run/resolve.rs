//! Which model each provider runs: the scenario's, or the one `--provider-model` names
//! for it, and the models of ws2_32 itself.

use super::*;

/// Resolves each provider's model, applying `--provider-model` overrides. An override
/// replaces the provider's model whole, its inline `set` included.
pub fn resolve_models(
    scenario: &Scenario,
    overrides: &[(String, String)],
) -> Result<Vec<Model>, OptionError> {
    for (index, (provider, _)) in overrides.iter().enumerate() {
        if overrides[..index]
            .iter()
            .any(|(earlier, _)| earlier == provider)
        {
            return Err(OptionError::RepeatedOverride(provider.clone()));
        }
        if provider != WS2_32 && !scenario.providers.iter().any(|p| &p.name == provider) {
            return Err(OptionError::unknown_provider(scenario, provider));
        }
    }
    let all_versions = scenario.nsp_versions_all();
    scenario
        .providers
        .iter()
        .map(|provider| {
            let chosen = overrides.iter().rev().find(|(p, _)| *p == provider.name);
            let name = chosen.map_or(provider.model.as_str(), |(_, m)| m.as_str());
            let model = find_model(scenario, provider, name)?;
            let model = match chosen {
                None if !provider.set.is_empty() => model.with(&provider.set),
                _ => model,
            };
            if provider.kind == ProviderKind::Namespace {
                let versions = all_versions
                    .get(provider.name.as_str())
                    .map_or(&[][..], Vec::as_slice);
                if let Some((knob, version)) =
                    models::knobs::foreign_to_versions(&model.behaviour, versions)
                {
                    let file = scenario
                        .model_files
                        .iter()
                        .find(|loaded| loaded.path == name || loaded.model.name == name)
                        .map_or(String::new(), |loaded| {
                            format!(" (model file {})", crate::escape::escape_path(&loaded.path))
                        });
                    return Err(OptionError::KnobVersion {
                        provider: provider.name.clone(),
                        versions: versions.iter().map(|v| format!("{v:?}")).collect(),
                        model: model.name.clone(),
                        file,
                        knob: knob.path,
                        version: format!("{version:?}"),
                    });
                }
            }
            Ok(model)
        })
        .collect()
}

/// The model `name` for `provider`: a built-in one, a model file's model by its name, or
/// the model of the file `name` (a `--provider-model` path, read into the scenario by
/// [`scenario::attach_override_models`]).
fn find_model(
    scenario: &Scenario,
    provider: &scenario::Provider,
    name: &str,
) -> Result<Model, OptionError> {
    if let Some(model) = models::find(provider.kind, name) {
        return Ok(Model::from(model));
    }
    let code = scenario.code_models.iter().filter(|m| m.name == name);
    if let Some(model) = code.clone().find(|m| m.kind == provider.kind) {
        return Ok(model.clone());
    }
    if let Some(model) = code.clone().next() {
        return Err(OptionError::ModelKind {
            provider: provider.name.clone(),
            provider_kind: format!("{:?}", provider.kind),
            model: name.to_string(),
            model_kind: format!("{:?}", model.kind),
        });
    }
    let from_file = if scenario::is_model_path(name) {
        let file = scenario.model_files.iter().find(|f| f.path == name);
        Some(file.ok_or_else(|| OptionError::ModelFileNotRead(name.to_string()))?)
    } else {
        scenario.model_files.iter().find(|f| f.model.name == name)
    };
    match from_file {
        Some(file) if file.model.kind == provider.kind => Ok(file.model.clone()),
        Some(file) => Err(OptionError::ModelKind {
            provider: provider.name.clone(),
            provider_kind: format!("{:?}", provider.kind),
            model: name.to_string(),
            model_kind: format!("{:?}", file.model.kind),
        }),
        None => {
            let mut names: Vec<&str> = models::names(provider.kind).collect();
            let files = scenario.model_files.iter();
            names.extend(
                files
                    .filter(|f| f.model.kind == provider.kind)
                    .map(|f| f.model.name.as_str()),
            );
            Err(OptionError::UnknownModel {
                provider: provider.name.clone(),
                model: name.to_string(),
                kind: format!("{:?}", provider.kind),
                known: known_models(name, names.into_iter(), true),
            })
        }
    }
}

/// The stamp (`run::stamp`) of runs of `scenario` with the `--provider-model` overrides given.
pub fn stamp_of(scenario: &Scenario, overrides: &[(String, String)]) -> Result<u32, OptionError> {
    let models = resolve_models(scenario, overrides)?;
    Ok(stamp(scenario, &models, resolve_ws2_model(overrides)?))
}

/// The ws2_32 model: `--provider-model ws2_32=MODEL`, or the conforming one.
pub fn resolve_ws2_model(overrides: &[(String, String)]) -> Result<&'static Ws2Model, OptionError> {
    let name = overrides
        .iter()
        .rev()
        .find(|(p, _)| p == WS2_32)
        .map_or("conforming", |(_, m)| m.as_str());
    ws2::find_model(name).ok_or_else(|| OptionError::UnknownWs2Model {
        model: name.to_string(),
        known: known_models(name, ws2::WS2_MODELS.iter().map(|m| m.name), false),
    })
}

/// "did you mean `x`? the models are `a`, `b` or `c`", for an unknown model `name`;
/// `files`: whether a model file could be given instead (not to ws2_32).
fn known_models<'a>(
    name: &str,
    names: impl Iterator<Item = &'a str> + Clone,
    files: bool,
) -> String {
    // `ACME.RON` looks like a file's name: say how a path is told from a model's name.
    let looks_like_a_file = name.to_ascii_lowercase().ends_with(".ron");
    let hint = if looks_like_a_file && !files {
        "ws2_32 takes a built-in model only, not a model file; ".to_string()
    } else if looks_like_a_file {
        format!(
            "a model file's path ends in `.ron` (lower case) or holds a `/`, as `./{}` \
             does; ",
            crate::scenario::escape_line(name)
        )
    } else {
        crate::scenario::schema::closest(name, names.clone())
            .map_or(String::new(), |near| format!("did you mean `{near}`? "))
    };
    format!(
        "{hint}the models are {}",
        crate::scenario::schema::one_of(names, usize::MAX)
    )
}
