// Every place the repository points a reader to a document: `docs/<name>.md#<section>` written in code
// comments, docs and configs, and relative links in Markdown. Each must name a file that exists and, when
// it names a section, a heading of that file (GitHub's anchor for it, computed by github-slugger, the
// library GitHub's own renderer mirrors). A design reference outside the repository (the old
// "DESIGN section N" citations) is a problem too: a user of the project never sees that file.
import { existsSync, readFileSync } from 'node:fs';
import { NOT_OURS, repoFiles } from './repo_files.ts';
import path from 'node:path';
import GithubSlugger from 'github-slugger';

export interface DocLinkProblem {
  /** file relative to the repository root, and 1-based line */
  file: string;
  line: number;
  /** the reference as written */
  ref: string;
  problem: string;
}

const SCANNED = /\.(ts|tsx|mjs|md|ya?ml)$/;

/** Source, docs and config files under the repository root (relative paths, sorted). */
export function scannedFiles(root: string): string[] {
  // Test files are left out: their fixtures name broken references on purpose.
  return repoFiles(root, { skip: (name) => NOT_OURS.has(name), accept: (name) => SCANNED.test(name) && !/\.test\.tsx?$/.test(name) });
}

/** GitHub's anchors for the headings of a Markdown text (duplicates get -1, -2 as GitHub does). */
export function headingAnchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^(```|~~~)/.test(line)) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) anchors.add(slugger.slug(m[1].replace(/`/g, '')));
  }
  return anchors;
}

const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length;

export function checkDocLinks(root: string, files = scannedFiles(root)): DocLinkProblem[] {
  const problems: DocLinkProblem[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (abs: string) => {
    if (!anchorCache.has(abs)) anchorCache.set(abs, headingAnchors(readFileSync(abs, 'utf8')));
    return anchorCache.get(abs)!;
  };
  const check = (file: string, line: number, ref: string, target: string, anchor: string | undefined) => {
    if (!existsSync(target)) {
      problems.push({ file, line, ref, problem: `${path.relative(root, target) || target} does not exist` });
      return;
    }
    if (anchor !== undefined && /\.md$/.test(target) && !anchorsOf(target).has(anchor)) {
      const known = [...anchorsOf(target)].join(', ');
      problems.push({ file, line, ref, problem: `${path.relative(root, target)} has no section #${anchor} (sections: ${known})` });
    }
  };
  for (const file of files) {
    const text = readFileSync(path.join(root, file), 'utf8');
    // 1. `docs/<name>.md#section` anywhere (comments cite the design reference this way), relative to the root.
    for (const m of text.matchAll(/(?<![\w./-])docs\/([\w.-]+\.md)(?:#([\w-]+))?/g)) {
      check(file, lineAt(text, m.index!), m[0], path.join(root, 'docs', m[1]), m[2]);
    }
    // 2. Relative Markdown links, resolved from the linking file.
    if (file.endsWith('.md')) {
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const href = m[1];
        if (/^([a-z]+:|#|\/)/i.test(href)) continue; // external, same-page or absolute: not a repository path
        const [rel, anchor] = href.split('#');
        check(file, lineAt(text, m.index!), href, path.resolve(path.dirname(path.join(root, file)), rel), anchor);
      }
    }
    // 3. A design reference outside the repository.
    for (const m of text.matchAll(/DESIGN section \d+|shared\/DESIGN\.md/g)) {
      problems.push({ file, line: lineAt(text, m.index!), ref: m[0], problem: 'cites a design file outside the repository; point to docs/design.md#<section>' });
    }
  }
  // A Markdown link to docs/... is seen by both rules: report it once.
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.problem}`;
    return !seen.has(key) && seen.add(key) !== undefined;
  });
}
