// What an operator watches (docs/telemetry.md): an Application Insights workbook over the gateway's OpenTelemetry
// metrics and spans, and log search alert rules that mail an action group. The queries name only the metric and
// attribute names the gateway emits (Functions/Telemetry/TelemetryNames.cs; a test compares the compiled template with
// them). Metrics land in customMetrics (valueSum and valueCount per export), server spans in requests, upstream
// attempts in dependencies, with their attributes in customDimensions.

import { tagSet } from '../types.bicep'

@description('Location of the workbook and the alert rules (the action group is global).')
param location string

@description('Tags for every resource.')
param tags tagSet

@description('Name of the Application Insights component the queries read, in this resource group.')
param applicationInsightsName string

@description('Prefix of the alert rules\' and action group\'s names.')
param namePrefix string

@description('Address the alerts are mailed to; empty leaves the action group without a receiver.')
param alertEmail string

@description('Share of calls answered with a 5xx, over 15 minutes, above which the 5xx alert fires (0.05 is 5 %).')
param serverErrorRateThreshold string

@description('Minutes an upstream must rest without a break before its alert fires.')
param upstreamRestingMinutes int

@description('Usage records waiting to be written, at the least over 15 minutes, above which the usage writer counts as falling behind.')
param usageQueueThreshold int

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var calls = '''
customMetrics
| where name == "gen_ai.server.request.duration"
| extend statusClass = tostring(customDimensions["qhaigc.status_class"])
| summarize calls = sum(valueCount) by bin(timestamp, {TimeRange:grain}), statusClass
| render timechart
'''

var errorRate = '''
customMetrics
| where name == "gen_ai.server.request.duration"
| extend statusClass = tostring(customDimensions["qhaigc.status_class"]), endpoint = tostring(customDimensions["qhaigc.endpoint"])
| summarize calls = sum(valueCount), errors = sumif(valueCount, statusClass == "5xx"), refused = sumif(valueCount, statusClass == "4xx") by endpoint
| extend errorRate = round(100.0 * errors / calls, 2), refusedRate = round(100.0 * refused / calls, 2)
| order by calls desc
'''

var timeToFirstToken = '''
requests
| where isnotempty(customDimensions["qhaigc.time_to_first_token"])
| extend ttft = todouble(customDimensions["qhaigc.time_to_first_token"]), model = tostring(customDimensions["gen_ai.request.model"])
| summarize p50 = percentile(ttft, 50), p95 = percentile(ttft, 95) by bin(timestamp, {TimeRange:grain})
| render timechart
'''

var tokensByModel = '''
customMetrics
| where name == "gen_ai.client.token.usage"
| extend model = tostring(customDimensions["gen_ai.request.model"]), tokenType = tostring(customDimensions["gen_ai.token.type"])
| summarize tokens = sum(valueSum) by bin(timestamp, {TimeRange:grain}), series = strcat(model, " ", tokenType)
| render timechart
'''

var costByModel = '''
customMetrics
| where name == "qhaigc.cost"
| extend model = tostring(customDimensions["gen_ai.request.model"]), currency = tostring(customDimensions["qhaigc.currency"])
| summarize cost = sum(valueSum) by bin(timestamp, {TimeRange:grain}), series = strcat(model, " ", currency)
| render timechart
'''

var refusalsByReason = '''
customMetrics
| where name == "qhaigc.refusals"
| extend reason = tostring(customDimensions["qhaigc.refusal.reason"])
| summarize refusals = sum(valueSum) by bin(timestamp, {TimeRange:grain}), reason
| render barchart
'''

var upstreamHealth = '''
customMetrics
| where name in ("qhaigc.upstream.attempts", "qhaigc.upstream.failures", "qhaigc.upstream.resting")
| extend upstream = tostring(customDimensions["qhaigc.upstream"])
| summarize attempts = sumif(valueSum, name == "qhaigc.upstream.attempts"), failures = sumif(valueSum, name == "qhaigc.upstream.failures"),
    restingNow = maxif(value, name == "qhaigc.upstream.resting") by upstream
| extend failureRate = round(100.0 * failures / attempts, 2)
| order by failures desc
'''

var usageWriter = '''
customMetrics
| where name in ("qhaigc.usage.queue_length", "qhaigc.usage.records_lost", "qhaigc.settlements.lost", "qhaigc.gateway.overhead")
| summarize queued = maxif(value, name == "qhaigc.usage.queue_length"), recordsLost = sumif(valueSum, name == "qhaigc.usage.records_lost"),
    settlementsLost = sumif(valueSum, name == "qhaigc.settlements.lost"),
    overheadMs = 1000 * sumif(valueSum, name == "qhaigc.gateway.overhead") / sumif(valueCount, name == "qhaigc.gateway.overhead")
    by bin(timestamp, {TimeRange:grain})
| render timechart
'''

@description('Tiles of the workbook, top to bottom: a title, each query with its title and width.')
var tiles = [
  { name: 'calls', title: 'Calls by status class', query: calls, width: '50' }
  { name: 'errors', title: 'Errors and refusals by endpoint (%)', query: errorRate, width: '50' }
  { name: 'ttft', title: 'Time to first token, p50 and p95 (s)', query: timeToFirstToken, width: '50' }
  { name: 'tokens', title: 'Tokens by model and type', query: tokensByModel, width: '50' }
  { name: 'cost', title: 'Cost by model and currency', query: costByModel, width: '50' }
  { name: 'refusals', title: 'Refusals by reason', query: refusalsByReason, width: '50' }
  { name: 'upstreams', title: 'Upstream health: attempts, failures, resting', query: upstreamHealth, width: '50' }
  {
    name: 'usage'
    title: 'Usage writer: queue, records and settlements lost; gateway overhead (ms)'
    query: usageWriter
    width: '50'
  }
]

var workbookContent = {
  version: 'Notebook/1.0'
  items: concat(
    [
      {
        type: 1
        name: 'title'
        content: {
          json: '## Qhaigc gateway\nCalls, time to first token, tokens, cost, refusals, upstream health and the usage writer, from the gateway\'s OpenTelemetry metrics and spans (docs/telemetry.md).'
        }
      }
      {
        type: 9
        name: 'parameters'
        content: {
          version: 'KqlParameterItem/1.0'
          parameters: [
            {
              id: 'a3c1e0d2-4b5f-4c6d-8e7f-9a0b1c2d3e4f'
              version: 'KqlParameterItem/1.0'
              name: 'TimeRange'
              label: 'Time range'
              type: 4
              isRequired: true
              value: { durationMs: 86400000 }
              typeSettings: {
                selectableValues: [
                  { durationMs: 3600000 }
                  { durationMs: 14400000 }
                  { durationMs: 86400000 }
                  { durationMs: 604800000 }
                  { durationMs: 2592000000 }
                ]
              }
            }
          ]
        }
      }
    ],
    map(tiles, tile => {
      type: 3
      name: tile.name
      customWidth: tile.width
      content: {
        version: 'KqlItem/1.0'
        title: tile.title
        query: tile.query
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContextFromParameter: 'TimeRange'
        visualization: contains(tile.query, 'render timechart')
          ? 'timechart'
          : contains(tile.query, 'render barchart') ? 'barchart' : 'table'
      }
    })
  )
  fallbackResourceIds: [applicationInsights.id]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'qhaigc-gateway-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Qhaigc gateway'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(workbookContent)
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-gateway-alerts'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'qhaigc'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'operator'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

@description('The alert rules: a log search query each, with the column it measures, how, and when it fires.')
var alerts = [
  {
    name: 'usage-records-lost'
    displayName: 'Usage records lost'
    description: 'The gateway gave up on writing usage records (each also logged as UsageRecordLost, with the whole record): billing data is missing until repaired from the logs.'
    severity: 1
    windowSize: 'PT5M'
    query: 'customMetrics\n| where name == "qhaigc.usage.records_lost"\n| summarize lost = sum(valueSum)'
    column: 'lost'
    aggregation: 'Total'
    operator: 'GreaterThan'
    threshold: 0
    dimensions: []
  }
  {
    name: 'settlements-lost'
    displayName: 'Spend settlements lost'
    description: 'The gateway gave up on settling calls against their keys\' spend counters (each also logged as SettlementLost): spend caps undercount.'
    severity: 1
    windowSize: 'PT5M'
    query: 'customMetrics\n| where name == "qhaigc.settlements.lost"\n| summarize lost = sum(valueSum)'
    column: 'lost'
    aggregation: 'Total'
    operator: 'GreaterThan'
    threshold: 0
    dimensions: []
  }
  {
    name: 'server-error-rate'
    displayName: '5xx rate'
    description: 'Too many calls answered with a 5xx (upstreams failing or overloaded, storage unreachable).'
    severity: 2
    windowSize: 'PT15M'
    query: 'customMetrics\n| where name == "gen_ai.server.request.duration"\n| extend statusClass = tostring(customDimensions["qhaigc.status_class"])\n| summarize calls = sum(valueCount), errors = sumif(valueCount, statusClass == "5xx")\n| extend rate = iff(calls == 0, 0.0, todouble(errors) / calls)'
    column: 'rate'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: json(serverErrorRateThreshold)
    dimensions: []
  }
  {
    name: 'upstream-resting'
    displayName: 'Upstream resting'
    description: 'An upstream\'s circuit has been open (the gateway sends it no calls) for the whole window: it keeps failing its probes.'
    severity: 2
    windowSize: 'PT${upstreamRestingMinutes}M'
    query: 'customMetrics\n| where name == "qhaigc.upstream.resting"\n| extend upstream = tostring(customDimensions["qhaigc.upstream"])\n| summarize resting = min(value) by upstream'
    column: 'resting'
    aggregation: 'Minimum'
    operator: 'GreaterThanOrEqual'
    threshold: 1
    dimensions: [
      {
        name: 'upstream'
        operator: 'Include'
        values: ['*']
      }
    ]
  }
  {
    name: 'usage-writer-behind'
    displayName: 'Usage writer falling behind'
    description: 'Usage records are queued faster than the usage table takes them (throttled or unreachable storage); past the queue\'s capacity they are lost.'
    severity: 2
    windowSize: 'PT15M'
    query: 'customMetrics\n| where name == "qhaigc.usage.queue_length"\n| summarize queued = min(value)'
    column: 'queued'
    aggregation: 'Minimum'
    operator: 'GreaterThan'
    threshold: usageQueueThreshold
    dimensions: []
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in alerts: {
    name: '${namePrefix}-${alert.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [applicationInsights.id]
      evaluationFrequency: 'PT5M'
      windowSize: alert.windowSize
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: alert.aggregation
            metricMeasureColumn: alert.column
            dimensions: alert.dimensions
            operator: alert.operator
            threshold: alert.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [actionGroup.id]
      }
    }
  }
]

output workbookId string = workbook.id
output actionGroupId string = actionGroup.id
