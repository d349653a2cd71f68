/**
 * A small static checker for Canopy's Dockerfiles (hadolint is a Haskell binary we cannot get
 * here). It parses instructions (line continuations, comments, stages, global ARGs) and applies
 * the rules our images promise: multi-stage, pinned slim/distroless Node 24 base, npm ci in the
 * build stage and no dev dependencies at run time, non-root numeric USER, HEALTHCHECK,
 * exec-form ENTRYPOINT, no ADD, apt hygiene.
 */

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
  stage: number; // -1 before the first FROM
}

export interface Stage {
  index: number;
  image: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): {
  instructions: Instruction[];
  stages: Stage[];
  globalArgs: Record<string, string>;
} {
  const instructions: Instruction[] = [];
  const stages: Stage[] = [];
  const globalArgs: Record<string, string> = {};
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue;
      line = line.replace(/\\\s*$/, ' ') + next.trim();
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`line ${start + 1}: cannot parse: ${line}`);
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (keyword === 'FROM') {
      stage++;
      const fm = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!fm) throw new Error(`line ${start + 1}: bad FROM: ${args}`);
      stages.push({ index: stage, image: fm[1]!, ...(fm[2] ? { name: fm[2] } : {}), instructions: [] });
    }
    if (keyword === 'ARG' && stage === -1) {
      const [k, v = ''] = args.split('=', 2);
      globalArgs[k!.trim()] = v.trim();
    }
    const ins = { keyword, args, line: start + 1, stage };
    instructions.push(ins);
    if (stage >= 0) stages[stage]!.instructions.push(ins);
  }
  return { instructions, stages, globalArgs };
}

const substitute = (s: string, args: Record<string, string>) =>
  s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, k: string) => args[k] ?? all);

export interface LintOptions {
  app: string;
  /** Ports the image must EXPOSE. */
  expose: number[];
  /** A service (default): must have a HEALTHCHECK on /healthz. A command image (the CLI) need not. */
  service?: boolean;
}

/** Returns the rule violations, empty when the Dockerfile is fine. */
export function lintDockerfile(text: string, opts: LintOptions): string[] {
  const errors: string[] = [];
  let parsed: ReturnType<typeof parseDockerfile>;
  try {
    parsed = parseDockerfile(text);
  } catch (err) {
    return [(err as Error).message];
  }
  const { instructions, stages, globalArgs } = parsed;
  const at = (i: Instruction) => `line ${i.line} (${i.keyword})`;

  if (stages.length < 2) errors.push(`multi-stage build required (found ${stages.length} FROM)`);
  const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
  for (const s of stages) {
    const image = substitute(s.image, globalArgs);
    if (stageNames.has(image)) continue; // FROM an earlier stage
    if (/\$/.test(image)) errors.push(`stage ${s.index}: base image ${s.image} has an unresolved variable`);
    const [, tag] = /^[^@]+?(?::([^:@/]+))?(?:@sha256:[0-9a-f]{64})?$/.exec(image) ?? [];
    if (!tag && !image.includes('@sha256:'))
      errors.push(`stage ${s.index}: base image ${image} has no tag (implicit latest)`);
    if (tag === 'latest') errors.push(`stage ${s.index}: base image ${image} uses the latest tag`);
    if (
      !/^(docker\.io\/(library\/)?)?node:24(\.\d+){0,2}-[a-z]+-slim$/.test(image.split('@')[0]!) &&
      !/^gcr\.io\/distroless\/nodejs24-debian\d+(:[\w.-]+)?$/.test(image.split('@')[0]!)
    ) {
      errors.push(`stage ${s.index}: base image ${image} is neither node:24-*-slim nor distroless nodejs24`);
    }
  }

  for (const i of instructions) {
    if (i.keyword === 'ADD') errors.push(`${at(i)}: use COPY, not ADD`);
    if (i.keyword === 'MAINTAINER') errors.push(`${at(i)}: MAINTAINER is deprecated (use a LABEL)`);
    if (i.keyword === 'RUN') {
      if (/\bsudo\b/.test(i.args)) errors.push(`${at(i)}: no sudo`);
      if (/\b(curl|wget)\b[^|]*\|\s*(ba)?sh/.test(i.args)) errors.push(`${at(i)}: no curl | sh`);
      if (/apt-get\s+install/.test(i.args)) {
        if (!/--no-install-recommends/.test(i.args))
          errors.push(`${at(i)}: apt-get install without --no-install-recommends`);
        if (!/(-y|--yes)\b/.test(i.args)) errors.push(`${at(i)}: apt-get install without --yes`);
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(i.args))
          errors.push(`${at(i)}: apt lists not removed in the same RUN`);
        if (!/apt-get update/.test(i.args))
          errors.push(`${at(i)}: apt-get install without apt-get update in the same RUN`);
      }
      if (/\bapk\s+add\b/.test(i.args) && !/--no-cache/.test(i.args))
        errors.push(`${at(i)}: apk add without --no-cache`);
    }
    if (i.keyword === 'WORKDIR' && !i.args.startsWith('/')) errors.push(`${at(i)}: WORKDIR must be absolute`);
  }

  const build = stages[0];
  const final = stages[stages.length - 1];
  if (build && final && build !== final) {
    const runs = build.instructions
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join('\n');
    if (!/\bnpm ci\b/.test(runs))
      errors.push('build stage: dependencies must be installed with npm ci (lock file)');
    if (!new RegExp(`tsc -b apps/${opts.app}/tsconfig\\.json`).test(runs))
      errors.push(`build stage: must compile apps/${opts.app} with tsc -b`);
    if (!/npm prune --omit=dev/.test(runs))
      errors.push('build stage: must prune dev dependencies (npm prune --omit=dev) before the runtime copy');

    const finalRuns = final.instructions
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join('\n');
    if (/\bnpm (ci|install|i)\b|\byarn\b|\bpnpm\b/.test(finalRuns))
      errors.push('runtime stage: must not install npm packages (dev dependencies would come back)');
    for (const c of final.instructions.filter((i) => i.keyword === 'COPY')) {
      if (!/--from=/.test(c.args))
        errors.push(
          `${at(c)}: the runtime stage copies only from the build stage, never the context (no sources, no dev files)`,
        );
    }
    const users = final.instructions.filter((i) => i.keyword === 'USER');
    const user = users[users.length - 1];
    if (!user) errors.push('runtime stage: no USER (would run as root)');
    else {
      const [uid, gid] = user.args.split(':');
      if (!/^\d+$/.test(uid!))
        errors.push(
          `${at(user)}: USER must be numeric so Kubernetes runAsNonRoot can verify it (got ${user.args})`,
        );
      else if (Number(uid) < 10000) errors.push(`${at(user)}: USER uid must be >= 10000 (got ${uid})`);
      if (gid !== undefined && (!/^\d+$/.test(gid) || Number(gid) === 0))
        errors.push(`${at(user)}: group must be numeric and not 0`);
      const entry = final.instructions.find((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD');
      if (entry && entry.line < user.line) errors.push(`${at(user)}: USER must come before ENTRYPOINT/CMD`);
      const afterUser = final.instructions.filter((i) => i.line > user.line && i.keyword === 'RUN');
      if (afterUser.length) errors.push(`${at(afterUser[0]!)}: RUN after USER in the runtime stage`);
    }
    const hc = final.instructions.find((i) => i.keyword === 'HEALTHCHECK');
    if (opts.service !== false) {
      if (!hc) errors.push('runtime stage: no HEALTHCHECK');
      else if (/^NONE$/i.test(hc.args)) errors.push('runtime stage: HEALTHCHECK NONE');
      else if (!/\/healthz/.test(hc.args)) errors.push(`${at(hc)}: HEALTHCHECK should call /healthz`);
    }
    const ep = final.instructions.find((i) => i.keyword === 'ENTRYPOINT');
    if (!ep) errors.push('runtime stage: no ENTRYPOINT');
    else {
      let argv: unknown;
      try {
        argv = JSON.parse(ep.args);
      } catch {
        argv = undefined;
      }
      if (!Array.isArray(argv))
        errors.push(`${at(ep)}: ENTRYPOINT must be exec form (JSON array) so signals reach node`);
      else {
        if (argv[0] !== 'node') errors.push(`${at(ep)}: ENTRYPOINT must start node`);
        if (!argv.includes(`apps/${opts.app}/dist/main.js`))
          errors.push(`${at(ep)}: ENTRYPOINT must run apps/${opts.app}/dist/main.js`);
      }
    }
    const exposed = final.instructions
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.split('/')[0])));
    for (const p of opts.expose) if (!exposed.includes(p)) errors.push(`runtime stage: EXPOSE ${p} missing`);
    const env = final.instructions
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    if (!/NODE_ENV=production/.test(env)) errors.push('runtime stage: NODE_ENV=production not set');
  }
  return errors;
}
