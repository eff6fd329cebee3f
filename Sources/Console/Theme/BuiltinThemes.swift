// Generated from themes/*.json (the files are the source; ThemeTests checks both agree).
// Built in so the console has its themes without finding files at run time.
enum BuiltinThemes {
    static let order = ["default", "light", "high-contrast", "mono"]
    static let json: [String: String] = [
        "default": #"""
{
  "name": "default",
  "description": "Dark terminals: colours on the terminal's own background",
  "roles": {
    "normal": {"fg": "default", "bg": "default"},
    "header": {"fg": "black", "bg": "cyan", "attrs": ["bold"]},
    "column_header": {"fg": "bright_white", "bg": "236", "attrs": ["bold"]},
    "route_row": {"fg": "bright_cyan", "bg": "default", "attrs": ["bold"]},
    "ok": {"fg": "green", "bg": "default"},
    "running": {"fg": "cyan", "bg": "default"},
    "failed": {"fg": "red", "bg": "default"},
    "error": {"fg": "bright_red", "bg": "default", "attrs": ["bold"]},
    "affinity": {"fg": "bright_magenta", "bg": "default", "attrs": ["bold"]},
    "warning": {"fg": "yellow", "bg": "default"},
    "selected": {"fg": "black", "bg": "white"},
    "marked": {"fg": "bright_yellow", "bg": "default", "attrs": ["bold"]},
    "dim": {"fg": "bright_black", "bg": "default"},
    "status": {"fg": "default", "bg": "default"},
    "status_error": {"fg": "bright_red", "bg": "default", "attrs": ["bold"]},
    "hint": {"fg": "default", "bg": "236"},
    "hint_key": {"fg": "bright_cyan", "bg": "236", "attrs": ["bold"]},
    "overlay": {"fg": "default", "bg": "235"},
    "overlay_title": {"fg": "black", "bg": "cyan", "attrs": ["bold"]},
    "input": {"fg": "bright_white", "bg": "default", "attrs": ["bold"]},
    "progress_done": {"fg": "green", "bg": "default"},
    "progress_todo": {"fg": "bright_black", "bg": "default"},
    "stderr": {"fg": "yellow", "bg": "default"},
    "group_header": {"fg": "bright_cyan", "bg": "default", "attrs": ["bold"]}
  }
}
"""#,
        "light": #"""
{
  "name": "light",
  "description": "Light terminals: darker colours on the terminal's own background",
  "roles": {
    "normal": {"fg": "default", "bg": "default"},
    "header": {"fg": "white", "bg": "#005faf", "attrs": ["bold"]},
    "column_header": {"fg": "black", "bg": "252", "attrs": ["bold"]},
    "route_row": {"fg": "#005fd7", "bg": "default", "attrs": ["bold"]},
    "ok": {"fg": "#008700", "bg": "default"},
    "running": {"fg": "#005faf", "bg": "default"},
    "failed": {"fg": "#d70000", "bg": "default"},
    "error": {"fg": "#af0000", "bg": "default", "attrs": ["bold"]},
    "affinity": {"fg": "#af00af", "bg": "default", "attrs": ["bold"]},
    "warning": {"fg": "#af5f00", "bg": "default"},
    "selected": {"fg": "white", "bg": "#005faf"},
    "marked": {"fg": "#af00af", "bg": "default", "attrs": ["bold", "underline"]},
    "dim": {"fg": "244", "bg": "default"},
    "status": {"fg": "default", "bg": "default"},
    "status_error": {"fg": "#d70000", "bg": "default", "attrs": ["bold"]},
    "hint": {"fg": "black", "bg": "252"},
    "hint_key": {"fg": "#005faf", "bg": "252", "attrs": ["bold"]},
    "overlay": {"fg": "black", "bg": "255"},
    "overlay_title": {"fg": "white", "bg": "#005faf", "attrs": ["bold"]},
    "input": {"fg": "black", "bg": "default", "attrs": ["bold"]},
    "progress_done": {"fg": "#008700", "bg": "default"},
    "progress_todo": {"fg": "250", "bg": "default"},
    "stderr": {"fg": "#af5f00", "bg": "default"},
    "group_header": {"fg": "#005fd7", "bg": "default", "attrs": ["bold"]}
  }
}
"""#,
        "high-contrast": #"""
{
  "name": "high-contrast",
  "description": "Maximum contrast: bright colours on black, strong attributes",
  "roles": {
    "normal": {"fg": "bright_white", "bg": "black"},
    "header": {"fg": "black", "bg": "bright_yellow", "attrs": ["bold"]},
    "column_header": {"fg": "bright_white", "bg": "black", "attrs": ["bold", "underline"]},
    "route_row": {"fg": "bright_yellow", "bg": "black", "attrs": ["bold"]},
    "ok": {"fg": "bright_green", "bg": "black", "attrs": ["bold"]},
    "running": {"fg": "bright_cyan", "bg": "black"},
    "failed": {"fg": "bright_red", "bg": "black", "attrs": ["bold"]},
    "error": {"fg": "bright_white", "bg": "red", "attrs": ["bold"]},
    "affinity": {"fg": "black", "bg": "bright_magenta", "attrs": ["bold"]},
    "warning": {"fg": "black", "bg": "bright_yellow"},
    "selected": {"fg": "black", "bg": "bright_white", "attrs": ["bold"]},
    "marked": {"fg": "bright_yellow", "bg": "black", "attrs": ["bold", "underline"]},
    "dim": {"fg": "white", "bg": "black"},
    "status": {"fg": "bright_white", "bg": "black"},
    "status_error": {"fg": "bright_white", "bg": "red", "attrs": ["bold"]},
    "hint": {"fg": "bright_white", "bg": "black"},
    "hint_key": {"fg": "black", "bg": "bright_cyan", "attrs": ["bold"]},
    "overlay": {"fg": "bright_white", "bg": "black"},
    "overlay_title": {"fg": "black", "bg": "bright_yellow", "attrs": ["bold"]},
    "input": {"fg": "bright_white", "bg": "black", "attrs": ["bold"]},
    "progress_done": {"fg": "bright_green", "bg": "black"},
    "progress_todo": {"fg": "white", "bg": "black"},
    "stderr": {"fg": "bright_yellow", "bg": "black"},
    "group_header": {"fg": "bright_cyan", "bg": "black", "attrs": ["bold", "underline"]}
  }
}
"""#,
        "mono": #"""
{
  "name": "mono",
  "description": "No colour: attributes only (used for NO_COLOR)",
  "roles": {
    "normal": {"fg": "default", "bg": "default"},
    "header": {"fg": "default", "bg": "default", "attrs": ["reverse", "bold"]},
    "column_header": {"fg": "default", "bg": "default", "attrs": ["bold", "underline"]},
    "route_row": {"fg": "default", "bg": "default", "attrs": ["bold"]},
    "ok": {"fg": "default", "bg": "default"},
    "running": {"fg": "default", "bg": "default"},
    "failed": {"fg": "default", "bg": "default", "attrs": ["bold"]},
    "error": {"fg": "default", "bg": "default", "attrs": ["bold"]},
    "affinity": {"fg": "default", "bg": "default", "attrs": ["bold", "underline"]},
    "warning": {"fg": "default", "bg": "default", "attrs": ["underline"]},
    "selected": {"fg": "default", "bg": "default", "attrs": ["reverse"]},
    "marked": {"fg": "default", "bg": "default", "attrs": ["bold"]},
    "dim": {"fg": "default", "bg": "default", "attrs": ["dim"]},
    "status": {"fg": "default", "bg": "default"},
    "status_error": {"fg": "default", "bg": "default", "attrs": ["bold"]},
    "hint": {"fg": "default", "bg": "default", "attrs": ["reverse"]},
    "hint_key": {"fg": "default", "bg": "default", "attrs": ["reverse", "bold"]},
    "overlay": {"fg": "default", "bg": "default"},
    "overlay_title": {"fg": "default", "bg": "default", "attrs": ["reverse", "bold"]},
    "input": {"fg": "default", "bg": "default", "attrs": ["bold"]},
    "progress_done": {"fg": "default", "bg": "default", "attrs": ["bold"]},
    "progress_todo": {"fg": "default", "bg": "default", "attrs": ["dim"]},
    "stderr": {"fg": "default", "bg": "default", "attrs": ["bold"]},
    "group_header": {"fg": "default", "bg": "default", "attrs": ["bold", "underline"]}
  }
}
"""#,
    ]
}
