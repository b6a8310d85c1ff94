#!/usr/bin/env python3
"""Include what you use, for the standard library: a .cc or .h file that
names std::string, uint32_t, std::move, ... includes <string>, <cstdint>,
<utility>, ... itself, not through some other header. A newer libstdc++
includes less from its own headers (GCC 14 on Debian 13 broke the build
that way), so a file that relies on that builds with GCC 12 and not with 14.
A .cc file may count on its own header (foo.h for foo.cc and foo_test.cc).

    includes_test.py SOURCE_DIR

Prints one line per file with the headers it lacks and fails if any does.
A scan of names, not a compiler: it looks at code with comments and string
literals removed.
"""
import os
import re
import sys

# header: what names it (a regular expression over the code)
NAMES = {
    'algorithm': r'\bstd::(sort|stable_sort|find|find_if|find_if_not|any_of|all_of|none_of|'
                 r'count|count_if|min|max|minmax|clamp|copy|copy_if|copy_n|fill|fill_n|equal|'
                 r'remove|remove_if|unique|reverse|transform|for_each|lower_bound|upper_bound|'
                 r'binary_search|max_element|min_element|search|mismatch|replace|replace_if|'
                 r'includes|set_difference|set_intersection|set_union|is_sorted|partition|'
                 r'rotate|ranges::\w+|lexicographical_compare)\b',
    'array': r'\bstd::array\b',
    'atomic': r'\bstd::atomic\b',
    'charconv': r'\bstd::(from_chars|to_chars)\b',
    'chrono': r'\bstd::chrono\b|\b\d+(ms|s|min|h|us|ns)\b',
    'condition_variable': r'\bstd::condition_variable\b',
    'cstdint': r'\b(u?int(8|16|32|64)_t|u?intptr_t|u?intmax_t|U?INT(8|16|32|64)_(MAX|MIN))\b',
    'cstdio': r'(?<![\w:.>])(std::)?(printf|fprintf|snprintf|sprintf|fputs|puts|fflush|fopen|'
              r'fclose|fgets|perror|fwrite|fread|putchar|popen|pclose|fileno|vfprintf|'
              r'vsnprintf|sscanf)\s*\(|\bstderr\b|\bstdout\b|\bFILE\b',
    'cstdlib': r'(?<![\w:.>])(std::)?(getenv|setenv|unsetenv|exit|abort|strtol|strtoul|strtoull|'
               r'strtoll|atoi|malloc|free|mkdtemp|mkstemp|system|realpath|_exit)\s*\(|'
               r'\bEXIT_(SUCCESS|FAILURE)\b',
    'cstring': r'(?<![\w:.>])(std::)?(strlen|strcmp|strncmp|memcpy|memset|memcmp|memmove|strerror|'
               r'strchr|strrchr|strstr|strncpy|strcpy|strdup|strndup|strsignal|strtok|strcat|'
               r'memchr|strspn|strcspn)\s*\(',
    'deque': r'\bstd::deque\b',
    'filesystem': r'\bstd::filesystem\b',
    'fstream': r'\bstd::(ifstream|ofstream|fstream)\b',
    'functional': r'\bstd::(function|ref|cref|hash|invoke|bind|less|greater|equal_to)\b',
    'iostream': r'\bstd::(cout|cerr|cin|clog)\b',
    'limits': r'\bstd::numeric_limits\b',
    'list': r'\bstd::list\b',
    'map': r'\bstd::(map|multimap)\b',
    'memory': r'\bstd::(unique_ptr|shared_ptr|make_unique|make_shared|weak_ptr|addressof|'
              r'default_delete)\b',
    'mutex': r'\bstd::(mutex|lock_guard|unique_lock|scoped_lock)\b',
    'numeric': r'\bstd::(accumulate|iota|gcd|lcm|reduce|inner_product|partial_sum)\b',
    'optional': r'\bstd::(optional|nullopt|make_optional)\b',
    'set': r'\bstd::(set|multiset)\b',
    'span': r'\bstd::span\b',
    'sstream': r'\bstd::(ostringstream|istringstream|stringstream)\b',
    'stdexcept': r'\bstd::(runtime_error|logic_error|invalid_argument|out_of_range)\b',
    'string': r'\bstd::(string|to_string|stoi|stoul|stoull|stol|stoll|getline)\b',
    'string_view': r'\bstd::string_view\b',
    'system_error': r'\bstd::(system_error|error_code|system_category|generic_category|errc)\b',
    'thread': r'\bstd::(thread|jthread|this_thread)\b',
    'tuple': r'\bstd::(tuple|tie|make_tuple)\b',
    'unordered_map': r'\bstd::unordered_map\b',
    'unordered_set': r'\bstd::unordered_set\b',
    'utility': r'\bstd::(move|pair|make_pair|exchange|swap|forward|declval|in_place|as_const|'
               r'index_sequence|integer_sequence|cmp_\w+|to_underlying)\b',
    'variant': r'\bstd::(variant|visit|get_if|holds_alternative|monostate)\b',
    'vector': r'\bstd::vector\b',
}
# Headers that provide the same names (the C header, or one that must).
ALSO = {
    'cstdint': ('stdint.h', 'inttypes.h', 'cinttypes'),
    'cstring': ('string.h',),
    'cstdio': ('stdio.h',),
    'cstdlib': ('stdlib.h',),
    'string_view': ('string',),
}
NAMES = {header: re.compile(pattern) for header, pattern in NAMES.items()}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def code_only(text):
    text = '\n'.join(l for l in text.split('\n') if not l.lstrip().startswith('#'))
    text = re.sub(r'//[^\n]*', '', text)
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'R"(\w*)\((.*?)\)\1"', '""', text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    return re.sub(r"'(\\.|[^'\\\n])'", "''", text)


def own_header(path, includes):
    """foo.h for foo.cc or foo_test.cc, when the file includes it."""
    if not path.endswith('.cc'):
        return None
    for candidate in (path[:-3] + '.h', re.sub(r'_test\.cc$', '.h', path)):
        name = os.path.basename(candidate)
        if os.path.exists(candidate) and any(os.path.basename(i) == name for i in includes):
            return candidate
    return None


def missing(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    have = set(INCLUDE.findall(text))
    own = own_header(path, have)
    if own:
        with open(own, encoding='utf-8') as f:
            have |= set(INCLUDE.findall(f.read()))
    code = code_only(text)
    return [h for h, names in NAMES.items()
            if names.search(code) and h not in have and not any(a in have for a in ALSO.get(h, ()))]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    failed = 0
    for top, dirs, files in os.walk(root):
        # Not build directories (anything with a build.ninja or meson-private) or .git.
        dirs[:] = sorted(d for d in dirs if not d.startswith('.') and not d.startswith('obj-')
                         and not os.path.exists(os.path.join(top, d, 'meson-private')))
        for name in sorted(files):
            if not name.endswith(('.cc', '.h')):
                continue
            path = os.path.join(top, name)
            lacks = missing(path)
            if lacks:
                failed += 1
                print('%s: include %s' % (os.path.relpath(path, root),
                                          ' '.join('<%s>' % h for h in lacks)))
    if failed:
        print('%d file(s) use the standard library without including what they use' % failed)
        return 1
    print('every file includes what it uses from the standard library')
    return 0


if __name__ == '__main__':
    sys.exit(main())
