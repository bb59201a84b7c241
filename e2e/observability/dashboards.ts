import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@correo/testkit";

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
  datasource: string | undefined;
}

export const dashboardsDir = join(repoRoot, "deploy", "grafana", "dashboards");

export function dashboardFiles(): string[] {
  return readdirSync(dashboardsDir).filter((f) => f.endsWith(".json")).sort();
}

interface Panel {
  title?: string;
  type?: string;
  datasource?: { uid?: string; type?: string } | string | null;
  targets?: { expr?: string; refId?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}

/** Every Prometheus query of every panel (rows' nested panels included) of a dashboard file. */
export function panelQueries(file: string): PanelQuery[] {
  const doc = JSON.parse(readFileSync(join(dashboardsDir, file), "utf8")) as { title: string; panels: Panel[] };
  const out: PanelQuery[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      if (p.panels) walk(p.panels);
      if (p.type === "row" || p.type === "text") continue;
      const panelUid = typeof p.datasource === "object" && p.datasource ? p.datasource.uid : undefined;
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        out.push({
          dashboard: doc.title,
          panel: p.title ?? "(untitled)",
          refId: t.refId ?? "A",
          expr: t.expr,
          datasource: t.datasource?.uid ?? panelUid,
        });
      }
    }
  };
  walk(doc.panels);
  return out;
}

/** Grafana's built-in interval variables, as a 15 s-scraped dashboard would resolve them. */
export function resolveGrafanaVariables(expr: string, range = "1h"): string {
  return expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__interval", "15s")
    .replaceAll("$__range", range);
}
