#!/usr/bin/env python3
"""Counts the mirror and conversion lines of a checkout (issue #21): the
hand-written code that exists because a record is defined on more than one
side. Non-blank, non-comment lines of:

- the guest's glue (guest/src/component*): its conversion functions
  (to_*, from_* and kin, `impl From`), and in each forwarder (an export or
  an import method) every body line beyond the one call it needs. Neither
  the forwarders' signatures and calls (any binding needs them) nor the
  `with` table (which says that no conversion is needed) are counted;
- the host's public mirror modules (accounts, status, pool, credential,
  logic, login: whole files, helpers included), and its other mirrors and
  conversions: the store kinds and plan, settings, defaults, the error.

    scripts/mirror-lines.py [CHECKOUT]
"""
import glob
import os
import re
import sys

CONVERSION = re.compile(
    r'^\s*(pub(\([\w:]+\))?\s+)?fn\s+(to_|from_|saturate|resolve|given_and_file|into_wit|lift|lower)\w*'
)
HOST_MODULES = ['accounts', 'status', 'pool', 'credential', 'logic', 'login']
HOST_ITEMS = [
    ('host/src/backend.rs', r'^pub enum AccountStore'),
    ('host/src/backend.rs', r'^impl From<crate::bindings::types::AccountStore>'),
    ('host/src/backend.rs', r'^pub\(crate\) struct StorePlan'),
    ('host/src/auth.rs', r'^fn store_plan'),
    ('host/src/auth/mod.rs', r'^fn store_plan'),
    ('host/src/options.rs', r'^pub struct Setting\b'),
    ('host/src/options.rs', r'^impl From<crate::bindings::vault::Setting>'),
    ('host/src/options.rs', r'^pub struct Defaults'),
    ('host/src/runtime.rs', r'^fn ask_defaults'),
    ('host/src/error.rs', r'^impl From<.*AuthError'),
]


def code(text):
    return [l for l in text.splitlines() if l.strip() and not l.strip().startswith('//')]


def block_end(lines, i):
    """The index after the item that starts at line `i` (braces balanced)."""
    depth, seen = 0, False
    while True:
        depth += lines[i].count('{') - lines[i].count('}')
        seen = seen or '{' in lines[i]
        i += 1
        if seen and depth <= 0:
            return i


def glue(lines):
    conversions = inline = forwarders = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r'^impl\b.*\bFrom<', line.strip()):
            end = block_end(lines, i)
            conversions += end - i
            i = end
            continue
        if re.match(r'^\s*(pub(\([\w:]+\))?\s+)?fn\s+\w+', line):
            start, end = i, block_end(lines, i)
            opening = next(k for k in range(start, end) if '{' in lines[k])
            if CONVERSION.match(line):
                conversions += end - start
            else:
                forwarders += 1
                body = end - opening - 2  # without the signature and the closing brace
                inline += max(0, body - 1)
            i = end
            continue
        i += 1
    return conversions, inline, forwarders


def item_lines(path, pattern):
    if not os.path.exists(path):
        return 0
    lines = open(path).read().splitlines()
    for i, line in enumerate(lines):
        if re.search(pattern, line):
            start = i
            while start > 0 and lines[start - 1].strip().startswith('#['):
                start -= 1
            return len(code('\n'.join(lines[start:block_end(lines, i)])))
    return 0


def main(root):
    files = glob.glob(f'{root}/guest/src/component.rs') + glob.glob(f'{root}/guest/src/component/*.rs')
    conversions = inline = forwarders = 0
    for f in files:
        c, i, n = glue(code(open(f).read()))
        conversions, inline, forwarders = conversions + c, inline + i, forwarders + n
    modules = sum(
        len(code(open(p).read()))
        for p in (f'{root}/host/src/{m}.rs' for m in HOST_MODULES)
        if os.path.exists(p)
    )
    items = sum(item_lines(f'{root}/{f}', p) for f, p in HOST_ITEMS)
    total = conversions + inline + modules + items
    print(
        f'guest glue: conversion functions {conversions}, conversions inside {forwarders} forwarders {inline}; '
        f'host: mirror modules {modules}, other mirrors {items}; total {total}'
    )


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..'))
