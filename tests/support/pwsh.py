"""PowerShell text checked where PowerShell cannot run: parsed by the real PowerShell grammar
(tree-sitter-powershell), every verbatim string decoded by the language's own rules.

stdin:  {"docs": [{"name": NAME, "text": TEXT}, ...]}
stdout: {"docs": [{"name": NAME,
                   "errors": ["LINE:COL ERROR|MISSING TEXT", ...],
                   "strings": [DECODED, ...],      every verbatim string, in order
                   "env": [[NAME, DECODED], ...]}]}  each `$Env:NAME = '...'` statement

One process checks a whole batch. A verbatim string '...' ends at a lone single-quote
character, and a doubled one stands for one. PowerShell counts U+2018-U+201B as single
quotes too (about_Quoting_Rules; its tokenizer's IsSingleQuote); the grammar does not, so a
lone curly quote inside a string token is reported here as an error: PowerShell would have
ended the string there.
"""

import json
import sys

import tree_sitter
import tree_sitter_powershell

QUOTES = "'\u2018\u2019\u201a\u201b"


def decode_verbatim(token):
    """The value of a '...' token, or raise ValueError where PowerShell reads it otherwise."""
    if len(token) < 2 or token[0] not in QUOTES or token[-1] not in QUOTES:
        raise ValueError(f"not a verbatim string: {token!r}")
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c in QUOTES:
            if i + 1 < len(body) and body[i + 1] in QUOTES:
                # The tokenizer keeps the second of the pair.
                out.append(body[i + 1])
                i += 2
                continue
            raise ValueError(f"a lone {c!r} at {i + 1} ends the string early: {token!r}")
        out.append(c)
        i += 1
    return "".join(out)


def decode_here(token):
    """The value of a @'...'@ here-string: verbatim, between the two line breaks."""
    head, tail = token.index("\n") + 1, token.rindex("\n")
    return token[head:tail] if head <= tail else ""


def check(parser, name, text):
    tree = parser.parse(text.encode("utf-8"))
    errors, strings, env = [], [], []

    def where(node):
        line, col = node.start_point
        return f"{line + 1}:{col + 1}"

    def decode(node):
        """(value, error) of a string_literal node; (None, None) for other kinds of node."""
        if node.type != "string_literal" or len(node.named_children) != 1:
            return None, None
        token = node.named_children[0]
        raw = token.text.decode("utf-8")
        try:
            if token.type == "verbatim_string_characters":
                return decode_verbatim(raw), None
            if token.type == "verbatim_here_string_characters":
                return decode_here(raw), None
        except ValueError as e:
            return None, f"{where(token)} STRING {e}"
        return None, None

    def walk(node):
        if node.type == "ERROR" or node.is_missing:
            kind = "MISSING" if node.is_missing else "ERROR"
            errors.append(f"{where(node)} {kind} {node.text.decode('utf-8', 'replace')[:80]!r}")
        v, err = decode(node)
        if err is not None:
            errors.append(err)
        if v is not None:
            strings.append(v)
        if node.type == "assignment_expression" and node.named_children:
            lhs = node.named_children[0].text.decode("utf-8")
            # The right side is a pipeline holding the one literal: descend to it.
            lit = node.named_children[-1]
            while lit.type != "string_literal" and len(lit.named_children) == 1:
                lit = lit.named_children[0]
            rv, _ = decode(lit)
            if lhs.lower().startswith("$env:") and rv is not None:
                env.append([lhs[5:], rv])
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return {"name": name, "errors": errors, "strings": strings, "env": env}


def main():
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    docs = json.load(sys.stdin)["docs"]
    out = [check(parser, d["name"], d["text"]) for d in docs]
    json.dump({"docs": out}, sys.stdout)


if __name__ == "__main__":
    main()
