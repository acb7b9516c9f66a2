--- The server's `edgewise/status` notifications, as one short statusline text per client.
---
--- A status names the state (idle, busy, loading …), the session's totals, and may carry
--- a `notice` (a transient message such as "hidden: not sure enough (0.03)", shown for its
--- `ms`) and a `budget` ("this week: 61 % of budget", level ok|warn|limit). Every change
--- redraws the statuslines and fires `User EdgewiseStatus` (for statusline plugins).
local M = {}

---@class edgewise.Notice
---@field kind string
---@field text string
---@field ms integer how long it is shown
---@field until_ms integer when it stops being shown (vim.uv.now())

---@class edgewise.Budget
---@field text string
---@field level 'ok'|'warn'|'limit'
---@field percent? number

---@class edgewise.Status the last edgewise/status notification of a client
---@field state string idle|busy, or the model's state (loading, restarting, crashed …)
---@field last? {id: string, summary: string}
---@field session table session totals
---@field hidden integer completions hidden by minConfidence
---@field model? table
---@field budget? edgewise.Budget
---@field notice? edgewise.Notice the notice being shown, if any

local DEFAULT_NOTICE_MS = 4000
local MAX_NOTICE_MS = 60000

--- Words for the states the model can be in (the server sends them as `state`).
local STATES = {
  idle = 'idle',
  busy = 'busy',
  loading = 'loading the model',
  ['not loaded'] = 'idle',
  restarting = 'model restarting',
  crashed = 'model not running',
  error = 'model not running',
}

---@param value any
---@return any nil for JSON null
local function value_of(value)
  if value == vim.NIL then
    return nil
  end
  return value
end

---@param raw any
---@return edgewise.Budget?
local function budget_of(raw)
  raw = value_of(raw)
  if type(raw) ~= 'table' or type(raw.text) ~= 'string' or raw.text == '' then
    return nil
  end
  local level = vim.list_contains({ 'ok', 'warn', 'limit' }, raw.level) and raw.level or 'ok'
  return { text = raw.text, level = level, percent = tonumber(value_of(raw.percent)) }
end

---@param raw any
---@return edgewise.Notice?
local function notice_of(raw)
  raw = value_of(raw)
  if type(raw) ~= 'table' or type(raw.text) ~= 'string' or raw.text == '' then
    return nil
  end
  local ms = tonumber(value_of(raw.ms)) or DEFAULT_NOTICE_MS
  ms = math.max(0, math.min(math.floor(ms), MAX_NOTICE_MS))
  return {
    kind = type(raw.kind) == 'string' and raw.kind or 'info',
    text = raw.text:gsub('[\r\n]+', ' '),
    ms = ms,
    until_ms = vim.uv.now() + ms,
  }
end

--- Redraw every statusline (and the tabline/winbar that may show it) and tell
--- statusline plugins: `User EdgewiseStatus`.
function M.redraw()
  vim.schedule(function()
    pcall(vim.cmd.redrawstatus, { bang = true })
    vim.api.nvim_exec_autocmds('User', { pattern = 'EdgewiseStatus', modeline = false })
  end)
end

--- Keep the status of a client: `params` of its newest edgewise/status notification.
--- A budget sent once stays until the server sends another; a notice is shown for its
--- `ms`, then the statusline is redrawn without it.
---@param store table<integer, edgewise.Status> statuses by client id
---@param client_id integer
---@param params table
---@return edgewise.Notice? notice a notice this status brings (not shown before)
function M.update(store, client_id, params)
  local old = store[client_id]
  local status = vim.deepcopy(params) --[[@as edgewise.Status]]
  status.budget = budget_of(params.budget) or (params.budget == nil and old and old.budget or nil)
  status.notice = notice_of(params.notice)
  if not status.notice and old and old.notice and old.notice.until_ms > vim.uv.now() then
    status.notice = old.notice -- a status without a notice does not cut one short
  end
  store[client_id] = status
  local notice = status.notice
  if notice and notice ~= (old and old.notice) then
    vim.defer_fn(function()
      local now = store[client_id]
      if now and now.notice == notice then
        now.notice = nil
        M.redraw()
      end
    end, notice.ms)
  end
  M.redraw()
  return notice ~= (old and old.notice) and notice or nil
end

---@param status edgewise.Status
---@return string
local function money(status)
  local session = value_of(status.session) or {}
  local cloud = tonumber(value_of(session.cloud_equivalent)) or 0
  local currency = type(value_of(session.currency)) == 'string' and session.currency or ''
  return vim.trim(('%.4f %s'):format(cloud, currency))
end

---@class edgewise.Progress a model run in progress ($/progress of the server)
---@field title string e.g. "edgewise: Explain"
---@field message string e.g. "generating (2.1 s)"

--- Follow the server's $/progress: begin and report keep the run's title and latest
--- message, end forgets it. The statusline is redrawn.
---@param store table<integer, table<string|integer, edgewise.Progress>> by client id, then token
---@param client_id integer
---@param token string|integer
---@param value table the progress value
function M.progress(store, client_id, token, value)
  if type(value) ~= 'table' or token == nil then
    return
  end
  local runs = store[client_id] or {}
  store[client_id] = runs
  if value.kind == 'end' then
    runs[token] = nil
  else
    local run = runs[token] or { title = '', message = '' }
    if type(value_of(value.title)) == 'string' then
      run.title = value.title
    end
    if type(value_of(value.message)) == 'string' then
      run.message = value.message
    end
    runs[token] = run
  end
  M.redraw()
end

--- One short line for a statusline, e.g. `edgewise idle · 12 req · 0.0123 USD · this
--- week: 61 % of budget`; while a notice is shown, `edgewise hidden: not sure enough
--- (0.03)`; while an action runs, `edgewise: Explain · generating (2.1 s)`.
---@param status edgewise.Status?
---@param runs? table<string|integer, edgewise.Progress> the client's runs in progress
---@return string
function M.line(status, runs)
  if not status then
    return ''
  end
  if status.notice and status.notice.until_ms > vim.uv.now() then
    return 'edgewise ' .. status.notice.text
  end
  local _, run = next(runs or {})
  if run and run.title ~= '' then
    -- "edgewise: Explain · generating (2.1 s)"
    return run.message ~= '' and ('%s · %s'):format(run.title, run.message) or run.title
  end
  local state = tostring(value_of(status.state) or '?')
  local parts = { 'edgewise ' .. (STATES[state] or state) }
  local session = value_of(status.session) or {}
  local requests = tonumber(value_of(session.requests)) or 0
  table.insert(parts, ('%d req'):format(requests))
  if requests > 0 then
    table.insert(parts, money(status))
  end
  local budget = status.budget
  if budget then
    table.insert(parts, (budget.level == 'ok' and '' or '! ') .. budget.text)
  end
  return table.concat(parts, ' · ')
end

return M
