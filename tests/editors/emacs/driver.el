;;; driver.el --- edgewise-eglot.el in a real Emacs (batch mode)  -*- lexical-binding: t; -*-
;;
;;   EDGEWISE_SNIPPET=... EDGEWISE_PYTHON=... EDGEWISE_MODEL=... EDGEWISE_FILE=...
;;   EDGEWISE_OUT=result.json emacs --batch -l driver.el
;;
;; Starts eglot with the snippet on the fixture file, completes with `completion-at-point'
;; and waits for the report diagnostic in Flymake. Writes what it saw to EDGEWISE_OUT.

(package-initialize)
(require 'json)
(setq eglot-sync-connect t)
(setq jsonrpc-default-request-timeout 120) ; the first request waits for the model to load
(load (getenv "EDGEWISE_SNIPPET") nil t)
(setq edgewise-eglot-command
      (list (getenv "EDGEWISE_PYTHON") "-m" "edgewise.cli" "serve"))
(setq edgewise-eglot-settings
      (list :model (getenv "EDGEWISE_MODEL") :debounceMs 0 :maxTokens 24 :contextLength 2048
            :maxCompletionMs 60000 :minConfidence 0 :trimBelow 0)) ; the tiny model's text is noise

(defvar edgewise-test-result nil "Alist written as JSON at the end.")
(defvar edgewise-test-t0 (float-time))

(defun edgewise-test-note (key value)
  (push (cons key value) edgewise-test-result))

(defun edgewise-test-finish (code)
  (edgewise-test-note 'seconds (- (float-time) edgewise-test-t0))
  (with-temp-file (getenv "EDGEWISE_OUT")
    (insert (json-encode edgewise-test-result)))
  (ignore-errors (eglot-shutdown (eglot-current-server)))
  (kill-emacs code))

(defun edgewise-test-wait (check seconds)
  "Poll CHECK until it is non-nil or SECONDS pass; its last value."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall check))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defun edgewise-test-edgewise-diags (code)
  "Flymake diagnostics of source edgewise whose LSP code is CODE, as LSP plists."
  (cl-loop for d in (flymake-diagnostics)
           for lsp = (alist-get 'eglot-lsp-diag (flymake-diagnostic-data d))
           when (and lsp (equal (plist-get lsp :source) "edgewise")
                     (equal (plist-get lsp :code) code))
           collect (list :text (flymake-diagnostic-text d)
                         :type (symbol-name (flymake-diagnostic-type d))
                         :beg (flymake-diagnostic-beg d)
                         :end (flymake-diagnostic-end d)
                         :data (plist-get lsp :data))))

(condition-case err
    (progn
      (edgewise-test-note 'emacs emacs-version)
      (find-file (getenv "EDGEWISE_FILE"))
      (edgewise-test-note 'mode (symbol-name major-mode))
      ;; eglot-ensure waits for a command loop that batch mode never runs
      (apply #'eglot (eglot--guess-contact))
      (edgewise-test-note 'server (plist-get (eglot--server-info (eglot-current-server)) :name))
      (edgewise-test-note 'capf (mapcar (lambda (f) (format "%s" f)) completion-at-point-functions))
      (goto-char (point-min))
      (re-search-forward "for name in sorted")
      (forward-line 1)
      (end-of-line)
      (let* ((start (point))
             (line (line-number-at-pos))
             ;; what the server answers at this position (temperature 0: the same text
             ;; completion-at-point will get)
             (resp (jsonrpc-request (eglot-current-server) :textDocument/completion
                                    (eglot--TextDocumentPositionParams)
                                    :timeout 120))
             (items (if (vectorp resp) resp (plist-get resp :items)))
             (item (and (> (length items) 0) (aref items 0)))
             (expected (plist-get (plist-get item :textEdit) :newText)))
        (edgewise-test-note 'label (plist-get item :label))
        (edgewise-test-note 'expected expected)
        (completion-at-point)
        (edgewise-test-note 'inserted (buffer-substring-no-properties start (point)))
        (edgewise-test-note 'line line)
        (edgewise-test-note 'column (- start (line-beginning-position 1)))
        (let ((diags (edgewise-test-wait
                      (lambda () (edgewise-test-edgewise-diags "completion:completion")) 30)))
          (edgewise-test-note 'diagnostics (vconcat diags))
          (when diags
            (let ((d (car diags)))
              (edgewise-test-note 'diagnostic_region
                                  (buffer-substring-no-properties
                                   (plist-get d :beg) (plist-get d :end)))))))
      (edgewise-test-note 'cost (plist-get (edgewise-eglot-execute "edgewise.costReport") :session))
      (edgewise-test-finish 0))
  (error
   (edgewise-test-note 'error (error-message-string err))
   (edgewise-test-finish 1)))
