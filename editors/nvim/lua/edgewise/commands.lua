--- :EdgewiseCost, :EdgewisePrompt, :EdgewiseRewrite and :EdgewiseExplain, on the
--- server's workspace/executeCommand commands.
local M = {}

local CMD_COST = 'edgewise.costReport'
local CMD_PROMPT = 'edgewise.lastPrompt'
local CMD_REWRITE = 'edgewise.rewrite'
local PROMPT_BUFFER = 'edgewise://last-prompt'

---@param message string
---@param level? integer
local function notify(message, level)
  vim.notify(message, level or vim.log.levels.INFO, { title = 'edgewise' })
end

---@param value any
---@return any nil for JSON null
local function value_of(value)
  if value == vim.NIL then
    return nil
  end
  return value
end

---@param client vim.lsp.Client
---@param command string
---@return boolean
local function server_knows(client, command)
  local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
  local commands = type(provider) == 'table' and provider.commands or {}
  return vim.list_contains(commands, command)
end

--- Run a server command for `bufnr`; `on_result(result, client)` gets its result. Tells
--- the user (and returns false) when no server is attached or it does not know `command`.
---@param bufnr integer
---@param command string
---@param arguments? any[]
---@param on_result fun(result: any, client: vim.lsp.Client)
---@return boolean sent
function M.execute(bufnr, command, arguments, on_result)
  local client = require('edgewise').client(bufnr)
  if not client then
    notify('edgewise: no edgewise language server is running (see :checkhealth edgewise)', vim.log.levels.ERROR)
    return false
  end
  if not server_knows(client, command) then
    notify(
      ('edgewise: this edgewise server does not know the command %s yet; update edgewise (the server) to use it'):format(
        command
      ),
      vim.log.levels.ERROR
    )
    return false
  end
  local params = { command = command, arguments = arguments }
  client:request('workspace/executeCommand', params, function(err, result)
    if err then
      notify(('edgewise: %s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    on_result(value_of(result), client)
  end, bufnr)
  return true
end

---@param n any
---@return string
local function int(n)
  return tostring(math.floor((tonumber(n) or 0) + 0.5))
end

--- The cost report as the lines of the :EdgewiseCost window: this session, then the
--- week and the month with the hosted comparison and the break-even.
---@param result table the result of edgewise.costReport
---@return string[]
function M.cost_lines(result)
  local s = result.session or {}
  local currency = type(value_of(s.currency)) == 'string' and s.currency or ''
  local function money(v)
    return vim.trim(('%.4f %s'):format(tonumber(v) or 0, currency))
  end
  local lines = {
    'edgewise: this session',
    '',
    ('requests          %s'):format(int(s.requests)),
    ('hidden            %s  (below minConfidence)'):format(int(s.hidden)),
    ('prompt tokens     %s  (%s reused from the cache)'):format(int(s.tokens_prompt), int(s.tokens_cached)),
    ('generated tokens  %s'):format(int(s.tokens_completion)),
    ('model time        %.2f s'):format(tonumber(s.model_seconds) or 0),
    ('energy            %.4f Wh'):format(tonumber(s.energy_wh) or 0),
    ('local cost        %s'):format(money(s.local_cost)),
    ('cloud equivalent  %s'):format(money(s.cloud_equivalent)),
  }
  -- the week and the month, as `edgewise cost` prints them (the server renders them once)
  if type(value_of(result.text)) == 'string' and result.text ~= '' then
    table.insert(lines, '')
    vim.list_extend(lines, vim.split(vim.trim(result.text), '\n', { plain = true }))
  end
  return lines
end

--- :EdgewiseCost: the cost report in a floating window.
---@param bufnr? integer
function M.cost(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  M.execute(bufnr, CMD_COST, nil, function(result)
    if type(result) ~= 'table' then
      notify('edgewise: the server sent no cost report', vim.log.levels.WARN)
      return
    end
    local lines = M.cost_lines(result)
    vim.lsp.util.open_floating_preview(lines, '', {
      border = 'rounded',
      focus_id = 'edgewise-cost',
      title = ' edgewise cost ',
      title_pos = 'center',
    })
  end)
end

--- The last prompt as lines: a header with its token counts, then the text as sent.
---@param result table the result of edgewise.lastPrompt
---@return string[]
function M.prompt_lines(result)
  local lines = {
    ('# edgewise: last prompt — %s tokens, %s format, %s'):format(
      int(result.prompt_tokens),
      tostring(value_of(result.format) or '?'),
      tostring(value_of(result.kind) or '?')
    ),
  }
  for _, piece in ipairs(value_of(result.pieces) or {}) do
    table.insert(
      lines,
      ('#   %-13s lines %s-%s: %s tokens'):format(
        tostring(piece.kind),
        int(piece.start_line),
        int(piece.end_line),
        int(piece.tokens)
      )
    )
  end
  for _, note in ipairs(value_of(result.notes) or {}) do
    table.insert(lines, '#   note: ' .. tostring(note))
  end
  table.insert(lines, '')
  vim.list_extend(lines, vim.split(tostring(value_of(result.text) or ''), '\n', { plain = true }))
  return lines
end

--- :EdgewisePrompt: exactly what was last sent to the model, in a scratch buffer.
---@param bufnr? integer
function M.prompt(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  M.execute(bufnr, CMD_PROMPT, nil, function(result)
    if type(result) ~= 'table' then
      notify('edgewise: nothing has been sent to the model yet')
      return
    end
    local buf = vim.fn.bufnr(PROMPT_BUFFER)
    if buf == -1 then
      buf = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_name(buf, PROMPT_BUFFER)
      vim.bo[buf].bufhidden = 'hide'
    end
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, M.prompt_lines(result))
    vim.bo[buf].modifiable = false
    vim.bo[buf].modified = false
    local win = vim.fn.bufwinid(buf)
    if win == -1 then
      vim.cmd('botright split')
      vim.api.nvim_win_set_buf(0, buf)
    else
      vim.api.nvim_set_current_win(win)
    end
  end)
end

---@param bufnr integer
---@param line1 integer 1-based
---@param line2 integer 1-based
---@param encoding string
---@return lsp.Range
local function lines_range(bufnr, line1, line2, encoding)
  local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  local start_col, end_col = 0, #last
  -- a charwise Visual selection on exactly these lines: its columns
  local vs, ve = vim.api.nvim_buf_get_mark(bufnr, '<'), vim.api.nvim_buf_get_mark(bufnr, '>')
  if vim.fn.visualmode() == 'v' and vs[1] == line1 and ve[1] == line2 then
    start_col = vs[2]
    end_col = math.min(ve[2] + 1, #last)
  end
  local first = vim.api.nvim_buf_get_lines(bufnr, line1 - 1, line1, false)[1] or ''
  return {
    start = { line = line1 - 1, character = vim.str_utfindex(first, encoding, start_col, false) },
    ['end'] = { line = line2 - 1, character = vim.str_utfindex(last, encoding, end_col, false) },
  }
end

--- :EdgewiseRewrite {instruction}: rewrite the range (default: the current line) as told.
---@param instruction string
---@param line1 integer
---@param line2 integer
---@param bufnr? integer
function M.rewrite(instruction, line1, line2, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  instruction = vim.trim(instruction or '')
  if instruction == '' then
    notify('edgewise: say how to rewrite, e.g. :EdgewiseRewrite use pathlib', vim.log.levels.ERROR)
    return
  end
  local client = require('edgewise').client(bufnr)
  local encoding = client and client.offset_encoding or 'utf-16'
  local args = {
    {
      uri = vim.uri_from_bufnr(bufnr),
      range = lines_range(bufnr, line1, line2, encoding),
      instruction = instruction,
    },
  }
  M.execute(bufnr, CMD_REWRITE, args, function(result, c)
    if type(result) ~= 'table' then
      return -- the server applied its edit through workspace/applyEdit
    end
    local edit = result.edit or ((result.changes or result.documentChanges) and result) or nil
    if edit then
      vim.lsp.util.apply_workspace_edit(edit, c.offset_encoding)
    end
    if type(result.command) == 'table' then
      c:exec_cmd(result.command, { bufnr = bufnr })
    end
    local why = value_of(result.disabled) or value_of(result.error)
    local reason = type(why) == 'table' and why.reason or why
    local message = 'edgewise: rewrite not applied: '
      .. (type(why) == 'table' and (why.reason or vim.inspect(why)) or tostring(why))
    local state = require('edgewise').state
    local said = value_of(result.told) == true
      or (state ~= nil and require('edgewise.messages').just_said(state.messages, message))
    if why and reason ~= require('edgewise.preview').REJECTED and not said then
      notify(message, vim.log.levels.WARN)
    end
  end)
end

--- :EdgewiseExplain: explain the range (default: the current line) beside the code.
---@param line1 integer
---@param line2 integer
---@param bufnr? integer
function M.explain(line1, line2, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = require('edgewise').client(bufnr)
  if not client then
    notify('edgewise: no edgewise language server is running (see :checkhealth edgewise)', vim.log.levels.ERROR)
    return
  end
  local explain = require('edgewise.explain')
  if not server_knows(client, explain.COMMAND) then
    notify('edgewise: this edgewise server cannot explain code; update edgewise (the server)', vim.log.levels.ERROR)
    return
  end
  local args = { uri = vim.uri_from_bufnr(bufnr), range = lines_range(bufnr, line1, line2, client.offset_encoding) }
  client:exec_cmd({ title = 'Explain', command = explain.COMMAND, arguments = { args } }, { bufnr = bufnr })
end

--- Create the user commands.
function M.create()
  vim.api.nvim_create_user_command('EdgewiseCost', function()
    M.cost()
  end, { desc = 'edgewise: cost of this session, week and month (floating window)' })
  vim.api.nvim_create_user_command('EdgewisePrompt', function()
    M.prompt()
  end, { desc = 'edgewise: show exactly what was last sent to the model' })
  vim.api.nvim_create_user_command('EdgewiseRewrite', function(cmd)
    M.rewrite(cmd.args, cmd.line1, cmd.line2)
  end, { nargs = '+', range = true, desc = 'edgewise: rewrite the range with an instruction' })
  vim.api.nvim_create_user_command('EdgewiseExplain', function(cmd)
    M.explain(cmd.line1, cmd.line2)
  end, { range = true, desc = 'edgewise: explain the range, beside the code' })
end

return M
