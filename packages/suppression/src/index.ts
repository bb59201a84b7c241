export { classifyBounce, hardBounceMeaning, type BounceVerdict } from "./hard-bounce.js";
export { parseFeedbackReport, feedbackFields, type FeedbackReport, type ParsedReport } from "./feedback-report.js";
export {
  addSuppression,
  removeSuppression,
  findSuppression,
  listSuppressions,
  allSuppressions,
  suppressHardBounces,
  recordComplaint,
  complaintDetail,
  suppressionKey,
  suppressionDoc,
  csvLines,
  CSV_HEADER,
  SUPPRESSION_REASONS,
  type Suppression,
  type SuppressionReason,
  type SuppressionPosition,
  type ComplaintOutcome,
} from "./store.js";
