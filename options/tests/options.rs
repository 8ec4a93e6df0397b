//! tornado.options: definitions, the command line, TOML config files, callbacks and the help
//! laid out as Tornado's.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cyclone_options::{OptionParser, OptionsError};

fn server_options() -> OptionParser {
    let options = OptionParser::new();
    options
        .define("port", 8888u16)
        .unwrap()
        .help("run on the given port");
    options.define("debug", false).unwrap();
    options
        .define::<String>("mysql_host", "127.0.0.1:3306".to_owned())
        .unwrap()
        .help("database host");
    options
        .define::<Vec<u16>>("ports", None)
        .unwrap()
        .metavar("PORTS")
        .group("listening");
    options
        .define("timeout", Duration::from_secs(5))
        .unwrap()
        .group("listening");
    options.define::<PathBuf>("config", None).unwrap();
    options
}

#[test]
fn the_command_line_sets_typed_values() {
    let options = server_options();
    let rest = options
        .parse_command_line_from(
            [
                "server",
                "--port",
                "8000",
                "--debug",
                "--mysql_host=db:3306",
                "--ports=80,8000:8002",
                "--timeout=1.5m",
                "serve",
                "--port=1",
            ],
            true,
        )
        .unwrap();
    assert_eq!(options.get::<u16>("port").unwrap(), 8000);
    assert!(options.get::<bool>("debug").unwrap());
    assert_eq!(options.get::<String>("mysql-host").unwrap(), "db:3306");
    assert_eq!(
        options.get::<Vec<u16>>("ports").unwrap(),
        [80, 8000, 8001, 8002]
    );
    assert_eq!(
        options.get::<Duration>("timeout").unwrap(),
        Duration::from_secs(90)
    );
    // Parsing stops at the first argument that is not an option.
    assert_eq!(rest, ["serve", "--port=1"]);
    // No default and not set.
    assert!(matches!(
        options.get::<PathBuf>("config"),
        Err(OptionsError::NoValue(_))
    ));
    assert!(matches!(
        options.get::<String>("port"),
        Err(OptionsError::WrongType(_))
    ));
}

#[test]
fn defaults_last_values_and_booleans_as_tornado() {
    let options = server_options();
    options
        .parse_command_line_from(
            [
                "server",
                "--port=1",
                "--port=2",
                "--debug=false",
                "--",
                "--port=3",
            ],
            true,
        )
        .unwrap();
    assert_eq!(options.get::<u16>("port").unwrap(), 2);
    assert!(!options.get::<bool>("debug").unwrap());
    assert_eq!(
        options.get::<String>("mysql_host").unwrap(),
        "127.0.0.1:3306"
    );
    options
        .parse_command_line_from(["server", "--debug=0"], true)
        .unwrap();
    assert!(!options.get::<bool>("debug").unwrap());
    options
        .parse_command_line_from(["server", "--debug=yes"], true)
        .unwrap();
    assert!(options.get::<bool>("debug").unwrap());
}

#[test]
fn bad_command_lines_are_errors() {
    let options = server_options();
    let unknown = options
        .parse_command_line_from(["server", "--prot=1"], true)
        .unwrap_err();
    assert!(matches!(unknown, OptionsError::CommandLine(_)));
    // clap suggests the option meant.
    assert!(unknown.to_string().contains("--port"), "{unknown}");
    let invalid = options
        .parse_command_line_from(["server", "--port=http"], true)
        .unwrap_err();
    assert_eq!(
        invalid.to_string(),
        "option \"port\": \"http\" is not an integer"
    );
    let range = options
        .parse_command_line_from(["server", "--port=70000"], true)
        .unwrap_err();
    assert_eq!(
        range.to_string(),
        "option \"port\": 70000 does not fit the option's type"
    );
    assert!(
        options
            .parse_command_line_from(["server", "--port"], true)
            .is_err()
    );
    assert!(matches!(
        options.define("port", 1u16),
        Err(OptionsError::Duplicate(_))
    ));
}

#[test]
fn help_is_grouped_as_tornados() {
    let options = server_options();
    let Err(OptionsError::Help(help)) = options.parse_command_line_from(["server", "--help"], true)
    else {
        panic!("--help returns the help");
    };
    let this_file = file!();
    let expected = format!(
        "Usage: server [OPTIONS]\n\
         \n\
         Options:\n\
         \n  --help                           show this help information\n\
         \n\
         listening options:\n\
         \n  --ports=PORTS                    \n\
         \x20 --timeout                        (default 5s)\n\
         \n\
         {this_file} options:\n\
         \n  --config                         \n\
         \x20 --debug                          (default false)\n\
         \x20 --mysql-host                     database host (default 127.0.0.1:3306)\n\
         \x20 --port                           run on the given port (default 8888)\n\
         \n"
    );
    assert_eq!(help, expected);
}

#[test]
fn long_help_wraps_at_79_columns() {
    let options = OptionParser::new();
    options
        .define("a_very_long_option_name_indeed_yes", 1u64)
        .unwrap()
        .help("a help text long enough to need a second line when it is shown in the help output");
    let help = options.help("p");
    assert!(
        help.contains(
            "  --a-very-long-option-name-indeed-yes \n\
             \x20                                  a help text long enough to need a second\n\
             \x20                                  line when it is shown in the help output\n\
             \x20                                  (default 1)\n"
        ),
        "{help}"
    );
    assert!(help.lines().all(|line| line.len() <= 79), "{help}");
}

#[test]
fn config_files_are_toml() {
    let options = server_options();
    let dir = std::env::temp_dir().join(format!("cyclone-options-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("server.toml");
    std::fs::write(
        &file,
        "port = 9000\ndebug = true\nmysql-host = \"db.example.com:3306\"\nports = [1, 2]\ntimeout = \"2h\"\n",
    )
    .unwrap();
    options.parse_config_file(&file, true).unwrap();
    assert_eq!(options.get::<u16>("port").unwrap(), 9000);
    assert!(options.get::<bool>("debug").unwrap());
    assert_eq!(
        options.get::<String>("mysql_host").unwrap(),
        "db.example.com:3306"
    );
    assert_eq!(options.get::<Vec<u16>>("ports").unwrap(), [1, 2]);
    assert_eq!(
        options.get::<Duration>("timeout").unwrap(),
        Duration::from_secs(7200)
    );
    // Multiple values as one string, as on the command line.
    std::fs::write(&file, "ports = \"5:6\"\n").unwrap();
    options.parse_config_file(&file, true).unwrap();
    assert_eq!(options.get::<Vec<u16>>("ports").unwrap(), [5, 6]);

    std::fs::write(&file, "prot = 1\n").unwrap();
    assert!(
        matches!(options.parse_config_file(&file, true), Err(OptionsError::Unknown(name)) if name == "prot")
    );
    std::fs::write(&file, "port = \"many\"\n").unwrap();
    assert!(matches!(
        options.parse_config_file(&file, true),
        Err(OptionsError::Invalid { .. })
    ));
    std::fs::write(&file, "port = [\n").unwrap();
    assert!(matches!(
        options.parse_config_file(&file, true),
        Err(OptionsError::Config { .. })
    ));
    assert!(matches!(
        options.parse_config_file(dir.join("missing.toml"), true),
        Err(OptionsError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn callbacks_run_on_set_and_after_final_parses() {
    let options = Arc::new(OptionParser::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = seen.clone();
    options
        .define("port", 1u16)
        .unwrap()
        .callback(move |port| recorder.lock().unwrap().push(port));
    let parses = Arc::new(AtomicUsize::new(0));
    let counter = parses.clone();
    options.add_parse_callback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    options
        .parse_command_line_from(["p", "--port=2"], false)
        .unwrap();
    assert_eq!(parses.load(Ordering::SeqCst), 0, "not final");
    options
        .parse_command_line_from(["p", "--port=3"], true)
        .unwrap();
    assert_eq!(parses.load(Ordering::SeqCst), 1);
    options.set("port", 4u16).unwrap();
    assert_eq!(*seen.lock().unwrap(), [2, 3, 4]);

    // Tornado's --config pattern: a callback that reads a config file, which later flags
    // override.
    let dir = std::env::temp_dir().join(format!("cyclone-options-cb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("c.toml"), "port = 7\n").unwrap();
    let reader = options.clone();
    options
        .define::<PathBuf>("config", None)
        .unwrap()
        .callback(move |path| reader.parse_config_file(path, false).unwrap());
    let config = format!("--config={}", dir.join("c.toml").display());
    options
        .parse_command_line_from(["p", &config], true)
        .unwrap();
    assert_eq!(options.get::<u16>("port").unwrap(), 7);
    options
        .parse_command_line_from(["p", &config, "--port=8"], true)
        .unwrap();
    assert_eq!(options.get::<u16>("port").unwrap(), 8);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(options.as_dict()["port"], "8");
    assert!(options.groups().contains(file!()));
}
