/** Every CLI command, in help order. */
import type { Command } from "../command.ts";
import { info } from "./info.ts";
import { datasetImport, datasetInspect, datasetExport } from "./dataset.ts";
import { start } from "./start.ts";
import { evalCommand } from "./eval.ts";
import { evalMergeCommand } from "./eval-merge.ts";
import { sweepCommand } from "./sweep.ts";
import { sweepRunCommand } from "./sweep-run.ts";
import { sweepReportCommand } from "./sweep-report.ts";
import { trainCommand } from "./train.ts";
import { runCommand } from "./run.ts";
import { bridgeCommand } from "./bridge.ts";
import { exportCommand } from "./export.ts";
import { webCommand } from "./web.ts";
import { salvageCommand } from "./salvage.ts";
import { recordCommand } from "./record.ts";
import { envList, envReset, envRender, envRollout, envReplay, collect } from "./env.ts";

export const COMMANDS: Command[] = [start, info, datasetInspect, datasetImport, datasetExport, envList, envReset, envRender, envRollout, envReplay, collect, trainCommand, evalCommand, evalMergeCommand, sweepCommand, sweepRunCommand, sweepReportCommand, runCommand, recordCommand, salvageCommand, exportCommand, bridgeCommand, webCommand];
